/**
 * Tells the client whether a request left for the network: an undici interceptor that calls the
 * request's `onSent` hook when undici hands the request to a socket (`onRequestStart`, invoked
 * by the HTTP/1.1 writer just before it writes the request line). A request aborted before that
 * point sat in the pool's queue and surely reached no node; after it, a write may have landed.
 */
import type { Dispatcher } from 'undici';

/** The request option that carries the hook (a symbol, so it cannot clash with undici's own). */
export const ON_SENT = Symbol('ringkv.onSent');

type Handler = Dispatcher.DispatchHandler;

/** Forwards every callback to `inner`, calling `onSent` first when the request starts. */
class SentHandler implements Handler {
  constructor(
    private readonly inner: Handler,
    private readonly onSent: () => void,
  ) {}

  onRequestStart(...args: Parameters<NonNullable<Handler['onRequestStart']>>): void {
    this.onSent();
    this.inner.onRequestStart?.(...args);
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Handler['onRequestUpgrade']>>): void {
    this.inner.onRequestUpgrade?.(...args);
  }

  onResponseStart(...args: Parameters<NonNullable<Handler['onResponseStart']>>): void {
    this.inner.onResponseStart?.(...args);
  }

  onResponseData(...args: Parameters<NonNullable<Handler['onResponseData']>>): void {
    this.inner.onResponseData?.(...args);
  }

  onResponseEnd(...args: Parameters<NonNullable<Handler['onResponseEnd']>>): void {
    this.inner.onResponseEnd?.(...args);
  }

  onResponseError(...args: Parameters<NonNullable<Handler['onResponseError']>>): void {
    this.inner.onResponseError?.(...args);
  }
}

/** The interceptor for `pool.compose(sentTracker)`. */
export function sentTracker(dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] {
  return (options, handler) => {
    const onSent = (options as { [ON_SENT]?: () => void })[ON_SENT];
    return dispatch(options, onSent === undefined ? handler : new SentHandler(handler, onSent));
  };
}
