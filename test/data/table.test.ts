import { describe, expect, it } from 'vitest';
import { columnIndex, detectSeparator, isMissing, parseNumber, readTable } from '../../src/data/table.js';

describe('readTable', () => {
  it('detects a header, quoted fields with commas and CRLF', () => {
    const t = readTable('name,"size, cm",kind\r\n"a, b",1.5,x\r\nc,2,y\r\n');
    expect(t.header).toBe(true);
    expect(t.names).toEqual(['name', 'size, cm', 'kind']);
    expect(t.rows).toEqual([
      ['a, b', '1.5', 'x'],
      ['c', '2', 'y'],
    ]);
    expect(t.lines).toEqual([2, 3]);
  });

  it('reads a file without a header, string labels included', () => {
    const t = readTable('5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,2.9,virginica\n');
    expect(t.header).toBe(false);
    expect(t.names).toEqual(['col0', 'col1', 'col2']);
    expect(t.rows).toHaveLength(3);
    expect(readTable('1,2\n3,4').header).toBe(false);
    expect(readTable('1,2\n3,4', { header: true }).names).toEqual(['1', '2']);
  });

  it('detects a semicolon or tab separator, with decimal commas', () => {
    expect(detectSeparator('a;b;c\n1;2;3')).toBe(';');
    expect(detectSeparator('a\tb\n1\t2')).toBe('\t');
    expect(detectSeparator('"x;y",b\n1,2')).toBe(',');
    const t = readTable('x;y;label\n1,5;2;a\n3;4,25;b\n');
    expect(t.separator).toBe(';');
    expect(t.decimalComma).toBe(true);
    expect(parseNumber(t.rows[0][0], t.decimalComma)).toBe(1.5);
    expect(parseNumber(t.rows[1][1], t.decimalComma)).toBe(4.25);
  });

  it('names the line of a ragged row and refuses an empty file', () => {
    expect(() => readTable('a,b,c\n1,2,3\n4,5\n')).toThrow(
      new RangeError('CSV line 3: expected 3 cells (as on line 1), found 2, separated by ","'),
    );
    expect(() => readTable('\n\n')).toThrow(RangeError);
    expect(() => readTable('a,b\n1,"2\n')).toThrow(SyntaxError);
    expect(() => readTable('a|b', { separator: '|' })).toThrow(/separator must be one of/);
  });

  it('knows missing cells and numbers', () => {
    for (const cell of ['', ' ', 'NA', 'na', 'N/A', 'NaN', 'null', 'None', '?']) expect(isMissing(cell)).toBe(true);
    for (const cell of ['0', 'n', 'x']) expect(isMissing(cell)).toBe(false);
    expect(parseNumber(' 1e3 ')).toBe(1000);
    expect(parseNumber('.5')).toBe(0.5);
    for (const cell of ['', 'Infinity', '0x10', '1,5', '1e999', 'NaN']) expect(parseNumber(cell)).toBeNaN();
  });

  it('finds columns by name or index and lists the columns otherwise', () => {
    const t = readTable('a,b,c\n1,2,3');
    expect(columnIndex(t, 'b')).toBe(1);
    expect(columnIndex(t, -1)).toBe(2);
    expect(() => columnIndex(t, 'd')).toThrow(/no column "d"; columns: a, b, c/);
    expect(() => columnIndex(t, 3)).toThrow(/column 3 is outside the 3 columns/);
  });
});
