import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchedOutput } from './batched-output';

describe('BatchedOutput', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eo-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes lines in order, in batches, within 100 ms', async () => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const output = new BatchedOutput(fd);
    for (let i = 0; i < 1000; i++) output.write(`line ${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines[999]).toBe('line 999');
    closeSync(fd);
  });

  it('waits for a reader that fell behind (a full non-blocking pipe) and loses nothing', async () => {
    // A pipe whose reader sleeps for a second before it reads, non-blocking on our side as stdout
    // is once anything touches process.stdout: 4 MiB cannot fit, so writes meet EAGAIN.
    const file = join(dir, 'out');
    const reader = spawn('sh', ['-c', `sleep 1; cat > '${file}'`], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise((resolve) => reader.on('exit', resolve));
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const output = new BatchedOutput(fd);
    const line = (i: number): string => `line ${i} ${'x'.repeat(2000)}\n`;
    for (let i = 0; i < 1000; i++) output.write(line(i));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (let i = 1000; i < 2000; i++) output.write(line(i));
    await new Promise((resolve) => setTimeout(resolve, 500));
    reader.stdin.end();
    await exited;
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(output.dropped).toBe(0);
    expect(lines).toHaveLength(2000);
    expect(lines[1999]).toBe(line(1999).trim());
  });

  it('never throws once its descriptor fails: it drops the lines and counts them', async () => {
    const fd = openSync(join(dir, 'out'), 'w');
    closeSync(fd); // EBADF from now on, as EPIPE would be for a closed pipe
    const output = new BatchedOutput(fd);
    output.write('lost\n');
    output.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => output.write('dropped\n')).not.toThrow();
    expect(() => output.flushSync()).not.toThrow();
    expect(output.dropped).toBe(2);
  });
});
