/**
 * kafkajs 2.2.4 arms a timer with a negative delay when a request times out (tulios/kafkajs#1751); Node.js 24 and
 * newer clamp it to 1 ms, as kafkajs expects, and print a `TimeoutNegativeWarning` on the terminal. The warning says
 * nothing an operator can act on, so the command line drops that one kind; every other warning is printed as before.
 */
export function dropKafkajsTimerWarnings(target: Pick<NodeJS.Process, 'emitWarning'> = process): void {
  const emit = target.emitWarning.bind(target) as (...args: unknown[]) => void;
  target.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === 'TimeoutNegativeWarning') return;
    emit(warning, ...rest);
  }) as NodeJS.Process['emitWarning'];
}
