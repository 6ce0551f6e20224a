// The one error the engine throws on purpose: the input is invalid. Everything else that escapes
// the engine is a bug (a broken internal invariant), thrown as a plain Error.

/** One problem with the input, at a field path such as `lines[2].quantity`. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** How many issues the summary message lists before it says "and N more". */
const issuesInMessageMax = 5;

/** Formats an issue as `path: message`, or the bare message for the document root. */
function formatIssue(issue: ValidationIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

function summarise(issues: readonly ValidationIssue[]): string {
  const listed = issues.slice(0, issuesInMessageMax).map(formatIssue).join('; ');
  const unlisted = issues.length - issuesInMessageMax;
  return unlisted > 0 ? `${listed}; and ${unlisted} more` : listed;
}

/**
 * The input was rejected; nothing was priced. `issues` holds every problem found, each naming
 * its field; `message` summarises them so that a log line or an HTTP body is useful on its own.
 */
export class PricingValidationError extends Error {
  readonly code = 'INVALID_INPUT';
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    if (issues.length === 0) throw new Error('PricingValidationError needs at least one issue');
    super(summarise(issues));
    this.name = 'PricingValidationError';
    this.issues = issues;
  }
}
