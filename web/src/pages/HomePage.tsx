import { useQuery } from "@apollo/client/react";
import { ArticleList } from "../components/ArticleList";
import { QueryState } from "../components/QueryState";
import { PAGE_SIZE, useArticlePages } from "../components/useArticlePages";
import { graphql } from "../gql";
import { LiveBanner } from "../live/LiveBanner";

export const HOME = graphql(`
  query Home($first: Int!, $after: String) {
    articles(first: $first, after: $after) {
      ...ArticlePage
    }
  }
`);

export function HomePage() {
  const { data, loading, error, fetchMore, refetch, networkStatus } = useQuery(HOME, {
    variables: { first: PAGE_SIZE },
    notifyOnNetworkStatusChange: true,
  });
  const pages = useArticlePages(data?.articles, fetchMore, networkStatus);
  return (
    <>
      <h1>Latest news</h1>
      <LiveBanner />
      <QueryState loading={loading} error={error} hasData={!!data} onRetry={() => refetch()} />
      {data && (
        <ArticleList
          label="Latest articles"
          articles={pages.articles}
          hasNextPage={pages.hasNextPage}
          loadingMore={pages.loadingMore}
          onLoadMore={pages.loadMore}
        />
      )}
    </>
  );
}
