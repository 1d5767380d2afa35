import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The file an earlier attempt of the same execution already finished, if any: its name is
 * `<base>_<stamp>_<short>.<ext>`, and only the stamp differs between attempts.
 */
export async function findFinishedFile(dir: string, base: string, short: string, ext: string): Promise<string | null> {
  const pattern = new RegExp(`^${base}_\\d{8}T\\d{6}Z_${short}\\.${ext}$`);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => pattern.test(name)).sort();
  const name = names[0];
  return name === undefined ? null : path.join(dir, name);
}

/** A name beside the target, so the rename is atomic (same file system) and readers never see half a file. */
const tempPathFor = (target: string) =>
  path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomUUID()}`);

/** Writes `content` (UTF-8; streamed when it is produced piece by piece) so that the file appears whole or not at all. */
export async function writeFileAtomically(target: string, content: string | AsyncIterable<string>): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    await pipeline(Readable.from(typeof content === 'string' ? [content] : content), createWriteStream(temp));
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export interface FileFacts {
  size_bytes: number;
  sha256: string;
  /** Newline characters outside CSV quotes (all of them when `csvQuotes` is false). */
  lines: number;
}

/** Size, checksum and line count in one streaming read, whatever the file's size. */
export async function describeFile(file: string, csvQuotes: boolean): Promise<FileFacts> {
  const hash = createHash('sha256');
  let lines = 0;
  let quoted = false;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    for (const byte of chunk) {
      // An escaped quote ("") toggles twice, so only real field boundaries change the state.
      if (csvQuotes && byte === 0x22) quoted = !quoted;
      else if (byte === 0x0a && !quoted) lines += 1;
    }
  }
  return { size_bytes: (await stat(file)).size, sha256: hash.digest('hex'), lines };
}
