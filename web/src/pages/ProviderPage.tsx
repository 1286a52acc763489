import { useQuery } from "@apollo/client/react";
import { Link, useParams } from "react-router";
import { ArticleList } from "../components/ArticleList";
import { QueryState } from "../components/QueryState";
import { PAGE_SIZE, useArticlePages } from "../components/useArticlePages";
import { graphql } from "../gql";
import { topicPath } from "../paths";
import { NotFoundPage } from "./NotFoundPage";

export const PROVIDER = graphql(`
  query ProviderPage($domain: String!, $first: Int!, $after: String) {
    provider(domain: $domain) {
      id
      name
      domain
      articleCount
      topics(first: 10) {
        count
        topic {
          id
          name
        }
      }
      articles(first: $first, after: $after) {
        ...ArticlePage
      }
    }
  }
`);

export function ProviderPage() {
  const domain = useParams().domain ?? "";
  const { data, loading, error, fetchMore, refetch, networkStatus } = useQuery(PROVIDER, {
    variables: { domain, first: PAGE_SIZE },
    notifyOnNetworkStatusChange: true,
  });
  const provider = data?.provider;
  const pages = useArticlePages(provider?.articles, fetchMore, networkStatus);
  if (data && !provider) return <NotFoundPage what="provider" />;
  return (
    <>
      <h1>{provider?.name ?? domain}</h1>
      <QueryState loading={loading} error={error} hasData={!!data} onRetry={() => refetch()} />
      {provider && (
        <div className="with-aside">
          <section aria-label={`Articles from ${provider.name}`}>
            <p className="count">
              {provider.domain} · {provider.articleCount} articles
            </p>
            <ArticleList
              label={`Articles from ${provider.name}`}
              articles={pages.articles}
              hasNextPage={pages.hasNextPage}
              loadingMore={pages.loadingMore}
              onLoadMore={pages.loadMore}
            />
          </section>
          <aside aria-label="Top topics">
            <h2>Top topics</h2>
            <ul>
              {provider.topics.map(({ topic, count }) => (
                <li key={topic.id}>
                  <Link to={topicPath(topic.name)}>{topic.name}</Link> ({count})
                </li>
              ))}
            </ul>
          </aside>
        </div>
      )}
    </>
  );
}
