import { logFormat, prettyLine } from './log-format';

describe('npm start log format', () => {
  it('shows one short line per event: time, level, event, order id, outcome, message', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-12-04T18:00:01.234Z',
      service: 'inventory',
      event: 'order.processed',
      orderId: 'o-1',
      outcome: 'reserved',
      msg: 'order reserved',
    });
    expect(prettyLine(line)).toBe('18:00:01.234 info  order.processed o-1 reserved — order reserved');
    expect(prettyLine(JSON.stringify({ level: 'warn', time: '2026-12-04T18:00:02.000Z', msg: 'x' }), true)).toBe(
      '\x1b[33m18:00:02.000 warn  - — x\x1b[0m',
    );
  });

  it('passes lines that are not JSON objects through unchanged', () => {
    expect(prettyLine('Error: boom')).toBe('Error: boom');
    expect(prettyLine('[1,2]')).toBe('[1,2]');
  });

  it('is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(logFormat(undefined, true)).toBe('pretty');
    expect(logFormat(undefined, false)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('PRETTY', false)).toBe('pretty');
    expect(() => logFormat('yaml', false)).toThrow('LOG_FORMAT must be json or pretty, got "yaml"');
  });
});
