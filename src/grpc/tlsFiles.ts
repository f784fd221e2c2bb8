/** TLS files named by configuration, read with an error that names the variable. */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config.js';

export async function readTlsFile(file: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(variable, `cannot read ${file} (${reason})`);
  }
}
