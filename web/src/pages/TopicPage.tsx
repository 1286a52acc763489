import { useQuery } from "@apollo/client/react";
import { Link, useParams } from "react-router";
import { ArticleList } from "../components/ArticleList";
import { QueryState } from "../components/QueryState";
import { PAGE_SIZE, useArticlePages } from "../components/useArticlePages";
import { graphql } from "../gql";
import { providerPath, topicPath } from "../paths";
import { NotFoundPage } from "./NotFoundPage";

export const TOPIC = graphql(`
  query TopicPage($name: String!, $first: Int!, $after: String) {
    topic(name: $name) {
      id
      name
      articleCount
      relatedTopics(first: 10) {
        count
        topic {
          id
          name
        }
      }
      providers(first: 10) {
        count
        provider {
          id
          name
          domain
        }
      }
      articles(first: $first, after: $after) {
        ...ArticlePage
      }
    }
  }
`);

export function TopicPage() {
  const name = useParams().name ?? "";
  const { data, loading, error, fetchMore, refetch, networkStatus } = useQuery(TOPIC, {
    variables: { name, first: PAGE_SIZE },
    notifyOnNetworkStatusChange: true,
  });
  const topic = data?.topic;
  const pages = useArticlePages(topic?.articles, fetchMore, networkStatus);
  if (data && !topic) return <NotFoundPage what="topic" />;
  return (
    <>
      <h1>{topic?.name ?? name}</h1>
      <QueryState loading={loading} error={error} hasData={!!data} onRetry={() => refetch()} />
      {topic && (
        <div className="with-aside">
          <section aria-label={`Articles on ${topic.name}`}>
            <p className="count">{topic.articleCount} articles</p>
            <ArticleList
              label={`Articles on ${topic.name}`}
              articles={pages.articles}
              hasNextPage={pages.hasNextPage}
              loadingMore={pages.loadingMore}
              onLoadMore={pages.loadMore}
            />
          </section>
          <aside aria-label="Related">
            <h2>Related topics</h2>
            <ul>
              {topic.relatedTopics.map(({ topic: related, count }) => (
                <li key={related.id}>
                  <Link to={topicPath(related.name)}>{related.name}</Link> ({count})
                </li>
              ))}
            </ul>
            <h2>Top providers</h2>
            <ul>
              {topic.providers.map(({ provider, count }) => (
                <li key={provider.id}>
                  <Link to={providerPath(provider.domain)}>{provider.name}</Link> ({count})
                </li>
              ))}
            </ul>
          </aside>
        </div>
      )}
    </>
  );
}
