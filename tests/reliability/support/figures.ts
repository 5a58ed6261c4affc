/**
 * One line per figure the reliability tests establish (writers, changes, rounds, losses,
 * fuzz cases), printed with the test output so a run shows what it proved, not only that
 * it passed: `npx jest tests/reliability 2>&1 | grep '\[figures\]'`.
 */
export const reportFigures = (text: string): void => console.info(`[figures] ${text}`);
