import { Readable } from 'node:stream';
import { parseLogLine, readLogLines, type ParsedLine } from './log-lines';

const json = '{"event":"order.processed","orderId":"o-1","replica":"inventory-2"}';

describe('parseLogLine', () => {
  it('parses a bare JSON line', () => {
    expect(parseLogLine(json)).toEqual({ record: { event: 'order.processed', orderId: 'o-1', replica: 'inventory-2' } });
  });

  it('takes the JSON after an npm start prefix and names the process from it', () => {
    expect(parseLogLine(`inventory-0  | ${json}`)).toMatchObject({ prefixName: 'inventory-0', record: { orderId: 'o-1' } });
  });

  it('strips the colours npm start puts on a prefix when writing to a terminal', () => {
    expect(parseLogLine(`\u001b[36minventory-1  \u001b[0m| ${json}`)?.prefixName).toBe('inventory-1');
  });

  it('takes the JSON after a kubectl logs --prefix prefix and names the pod from it', () => {
    expect(parseLogLine(`[pod/inventory-7d9f/inventory] ${json}`)).toMatchObject({
      prefixName: 'inventory-7d9f',
      record: { orderId: 'o-1' },
    });
  });

  it('skips lines that are not a JSON object', () => {
    for (const line of ['', 'plain text', '{"truncated": ', '[1,2]', 'order | "a string"', 'x | null', '    at f (a.js:1:1) {']) {
      expect(parseLogLine(line)).toBeUndefined();
    }
  });
});

describe('readLogLines', () => {
  it('hands every JSON line to the sink and counts all lines, CRLF endings included', async () => {
    const seen: ParsedLine[] = [];
    const stats = await readLogLines(Readable.from([`noise\r\n${json}\r\n`, `web | ${json}\n`, 'tail without newline']), (l) =>
      seen.push(l),
    );
    expect(stats).toEqual({ lines: 4, jsonLines: 2 });
    expect(seen.map((l) => l.prefixName)).toEqual([undefined, 'web']);
  });
});
