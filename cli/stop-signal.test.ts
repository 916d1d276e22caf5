import { afterEach, describe, expect, it } from 'vitest';
import { listenForStopSignal, type StopSignal } from './stop-signal.js';

describe('listenForStopSignal', () => {
  let listener: StopSignal | undefined;
  afterEach(() => listener?.dispose());

  it('resolves with the first signal and absorbs the repeats', async () => {
    const repeats: NodeJS.Signals[] = [];
    listener = listenForStopSignal((signal) => repeats.push(signal));
    expect(listener.stopping()).toBe(false);

    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGINT', 'SIGINT');

    expect(await listener.signalled).toBe('SIGTERM');
    expect(listener.stopping()).toBe(true);
    expect(repeats).toEqual(['SIGTERM', 'SIGINT']);
  });

  it('stops listening once disposed', () => {
    const before = process.listenerCount('SIGTERM');
    const own = listenForStopSignal();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    own.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
