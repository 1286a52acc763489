import { NetworkStatus } from "@apollo/client";
import { useCallback, useRef } from "react";
import type { ArticleCardFragment } from "../gql/graphql";

/** What paging needs of any article connection (articles, search, a topic's...). */
type Pages = {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  edges: { node: ArticleCardFragment }[];
};

export const PAGE_SIZE = 20;

/** The cards of a connection, and a loadMore that asks for the page after the
 * last one once (a second call for the same cursor while it loads is dropped). */
export function useArticlePages(
  connection: Pages | null | undefined,
  fetchMore: (options: { variables: { after: string } }) => Promise<unknown>,
  networkStatus: NetworkStatus,
) {
  const requested = useRef<string | null>(null);
  const endCursor = connection?.pageInfo.endCursor ?? null;
  const hasNextPage = connection?.pageInfo.hasNextPage ?? false;
  const loadMore = useCallback(() => {
    if (!hasNextPage || !endCursor || requested.current === endCursor) return;
    requested.current = endCursor;
    fetchMore({ variables: { after: endCursor } }).catch(() => {
      requested.current = null; // let the next scroll (or the button) try again
    });
  }, [endCursor, hasNextPage, fetchMore]);
  const articles = connection?.edges.map((edge) => edge.node) ?? [];
  return { articles, hasNextPage, loadMore, loadingMore: networkStatus === NetworkStatus.fetchMore };
}
