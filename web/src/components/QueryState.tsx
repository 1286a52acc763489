import { CardSkeletons } from "./Skeleton";
import { ErrorBanner } from "./ErrorBanner";

type Props = { loading: boolean; error: unknown; hasData: boolean; onRetry: () => void };

/** What a page shows before (or instead of) its data: skeletons while the first
 * answer is on its way, the error banner with a retry when it failed. */
export function QueryState({ loading, error, hasData, onRetry }: Props) {
  if (error) return <ErrorBanner error={error} onRetry={onRetry} />;
  if (loading && !hasData) return <CardSkeletons />;
  return null;
}
