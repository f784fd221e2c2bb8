/**
 * The ports a running service listens on, by name. With PORT=0 / GRPC_PORT=0 the kernel
 * picks them at bind time, so nobody can take them between a probe and the bind; a parent
 * process (the test cluster, a script) learns them from PORTS_FILE: once the service
 * serves, it writes `{"http":…,"grpc":…,"internal":…}` there atomically (a temporary file renamed over
 * it), so a reader sees either no file or the whole of it.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';

/** Every listener of the service. A further one is one more name here. */
export const PORT_NAMES = ['http', 'grpc', 'internal'] as const;
export type PortName = (typeof PORT_NAMES)[number];
export type BoundPorts = Readonly<Record<PortName, number>>;

const port = z.number().int().min(1).max(65535);
const portsSchema = z.object(Object.fromEntries(PORT_NAMES.map((name) => [name, port])) as Record<PortName, typeof port>);

/** Write `ports` to `file` atomically (temporary file in the same folder, then rename). */
export async function writePortsFile(file: string, ports: BoundPorts): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(ports)}\n`);
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/** The ports in `file`, or undefined while it does not exist; throws on a malformed file. */
export async function readPortsFile(file: string): Promise<BoundPorts | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return portsSchema.parse(JSON.parse(text));
}
