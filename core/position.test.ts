import { describe, expect, it } from 'vitest';
import {
  comparePositions,
  isSourcePosition,
  mysqlPosition,
  postgresPosition,
  sqlServerPosition,
  type SourcePosition,
} from './position.js';

describe('source positions', () => {
  it.each([
    [
      { commitLsn: '00000027:00000758:0005', changeLsn: '00000027:00000758:0003', eventSerialNo: 2 },
      'mssql:000000270000075800050000002700000758000300000002',
    ],
    [
      { commitLsn: '0000002A:000000FF:0001', changeLsn: null, eventSerialNo: null },
      'mssql:0000002a000000ff00010000000000000000000000000000',
    ],
  ])('encodes SQL Server %j as %s', (fields, expected) => {
    const position = sqlServerPosition(fields);
    expect(position).toBe(expected);
    expect(isSourcePosition(position)).toBe(true);
  });

  it('orders SQL Server changes by commit LSN, then change LSN, then event serial number', () => {
    const ordered = [
      { commitLsn: '00000027:00000758:0003', changeLsn: null, eventSerialNo: null },
      { commitLsn: '00000027:00000758:0005', changeLsn: '00000027:00000758:0002', eventSerialNo: 1 },
      { commitLsn: '00000027:00000758:0005', changeLsn: '00000027:00000758:0002', eventSerialNo: 2 },
      { commitLsn: '00000027:00000758:0005', changeLsn: '00000027:00000758:0004', eventSerialNo: 1 },
      { commitLsn: '00000027:00000a00:0001', changeLsn: '00000027:000009ff:0001', eventSerialNo: 1 },
      { commitLsn: '00000100:00000000:0001', changeLsn: '00000100:00000000:0001', eventSerialNo: 1 },
    ].map(sqlServerPosition);
    expect([...ordered].reverse().sort(comparePositions)).toEqual(ordered);
  });

  it('orders PostgreSQL changes by commit LSN, then change LSN, beyond 2^53', () => {
    const ordered = [
      postgresPosition({ commitLsn: 100n, lsn: 90n }),
      postgresPosition({ commitLsn: 100n, lsn: 95n }),
      postgresPosition({ commitLsn: 2n ** 60n, lsn: 2n ** 60n - 1n }),
      postgresPosition({ commitLsn: 2n ** 60n + 1n, lsn: 2n ** 60n }),
    ];
    expect([...ordered].reverse().sort(comparePositions)).toEqual(ordered);
    expect(ordered[0]).toBe('pg:0000000000000064000000000000005a');
  });

  it('orders MySQL changes by binlog file, position and row', () => {
    const ordered = [
      mysqlPosition({ file: 'mysql-bin.000009', pos: 4000, row: 0 }),
      mysqlPosition({ file: 'mysql-bin.000010', pos: 4, row: 0 }),
      mysqlPosition({ file: 'mysql-bin.000010', pos: 4, row: 1 }),
    ];
    expect([...ordered].reverse().sort(comparePositions)).toEqual(ordered);
  });

  it.each([
    [
      () => sqlServerPosition({ commitLsn: '27:758:5', changeLsn: null, eventSerialNo: null }),
      'Invalid SQL Server LSN "27:758:5" in source.commit_lsn',
    ],
    [
      () => sqlServerPosition({ commitLsn: '00000027:00000758:0005', changeLsn: 'x', eventSerialNo: 1 }),
      'Invalid SQL Server LSN "x" in source.change_lsn',
    ],
    [
      () => sqlServerPosition({ commitLsn: '00000027:00000758:0005', changeLsn: null, eventSerialNo: -1 }),
      'Invalid position value -1 in source.event_serial_no',
    ],
    [
      () => postgresPosition({ commitLsn: 2n ** 64n, lsn: 1n }),
      'Invalid position value 18446744073709551616 in source.lastCommitLsn',
    ],
    [() => mysqlPosition({ file: 'binlog', pos: 1, row: 0 }), 'Invalid binlog file name "binlog" in source.file'],
  ])('rejects malformed source fields (%#)', (make, message) => {
    expect(make).toThrow(new RangeError(message));
  });

  it.each(['', 'mssql:00', 'pg:XYZ', 42, null, 'oracle:00000000000000000000000000000000'])(
    'does not take %j for a position',
    (value) => {
      expect(isSourcePosition(value)).toBe(false);
    },
  );

  it('compares equal positions as equal', () => {
    const p = postgresPosition({ commitLsn: 1n, lsn: 1n });
    expect(comparePositions(p, `${p}` as SourcePosition)).toBe(0);
  });
});
