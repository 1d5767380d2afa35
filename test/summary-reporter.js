/**
 * Ends the run with one plain line, `jest: N passed, N failed, N skipped`, that any CI can read
 * without knowing Jest's own summary format.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const {
      numPassedTests,
      numFailedTests,
      numPendingTests,
      numTodoTests,
      numFailedTestSuites,
      numRuntimeErrorTestSuites,
    } = results;
    const failed =
      numFailedTests +
      numRuntimeErrorTestSuites +
      (numFailedTestSuites > 0 && numFailedTests === 0 ? numFailedTestSuites : 0);
    process.stdout.write(
      `\njest: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
