// Runs one node with a secret file, as `ringkv node --secret-file F` will once the flag is
// wired in the CLI: argv[2] is the config overrides as JSON, argv[3] the secret file.
import { runNodeProcess } from '@ringkv/node';

await runNodeProcess(JSON.parse(process.argv[2]), process.env, { secretFile: process.argv[3] });
