import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

function describe(error: unknown): string {
  if (ServerError.is(error) && error.statusCode === 503) {
    return "The news service is unavailable for a moment (its database is not answering).";
  }
  if (ServerError.is(error)) {
    return `The news service answered with an error (HTTP ${error.statusCode}).`;
  }
  if (CombinedGraphQLErrors.is(error)) {
    return `The news service refused the request: ${error.errors.map((e) => e.message).join("; ")}`;
  }
  return "The news service cannot be reached. Check your connection.";
}

type Props = { error: unknown; onRetry: () => void };

export function ErrorBanner({ error, onRetry }: Props) {
  return (
    <div className="error-banner" role="alert">
      <p>{describe(error)}</p>
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
