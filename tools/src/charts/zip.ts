import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

/** One file in a ZIP archive's central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += n;
  }
  return buffer;
}

/** The entries of a ZIP file (no ZIP64: every size must fit in 32 bits). */
export function listZip(path: string): ZipEntry[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // The end-of-central-directory record sits in the last 22 bytes plus a comment of ≤ 65,535.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${path} is not a ZIP file (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const directorySize = tail.readUInt32LE(eocd + 12);
    const directoryOffset = tail.readUInt32LE(eocd + 16);
    if (directoryOffset === 0xffffffff) throw new Error(`${path} is a ZIP64 archive, which this reader does not handle`);
    const directory = readAt(fd, directoryOffset, directorySize);
    const entries: ZipEntry[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new Error(`${path}: corrupt central directory entry ${i}`);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      entries.push({
        method: directory.readUInt16LE(at + 10),
        crc32: directory.readUInt32LE(at + 16),
        compressedSize: directory.readUInt32LE(at + 20),
        size: directory.readUInt32LE(at + 24),
        localHeaderOffset: directory.readUInt32LE(at + 42),
        name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads one file out of a ZIP archive (stored or deflated) and checks its size and CRC-32, so a
 * truncated download fails here rather than as a corrupt executable later.
 */
export function readZipEntry(path: string, name: string): Buffer {
  const entry = listZip(path).find((e) => e.name === name);
  if (!entry) throw new Error(`${path} has no entry ${name}`);
  const fd = openSync(path, 'r');
  try {
    const header = readAt(fd, entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new Error(`${path}: corrupt local header of ${name}`);
    const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const raw = readAt(fd, dataStart, entry.compressedSize);
    let data: Buffer;
    if (entry.method === STORED) data = raw;
    else if (entry.method === DEFLATED) data = inflateRawSync(raw);
    else throw new Error(`${path}: ${name} uses compression method ${entry.method}, which this reader does not handle`);
    if (data.length !== entry.size) throw new Error(`${path}: ${name} inflated to ${data.length} bytes, expected ${entry.size}`);
    if (crc32(data) >>> 0 !== entry.crc32) throw new Error(`${path}: ${name} fails its CRC-32 check`);
    return data;
  } finally {
    closeSync(fd);
  }
}
