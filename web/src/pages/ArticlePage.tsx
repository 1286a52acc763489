import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useQuery } from "@apollo/client/react";
import { Link, useParams } from "react-router";
import { QueryState } from "../components/QueryState";
import { Time } from "../components/Time";
import { graphql } from "../gql";
import type { ArticleDetailQuery } from "../gql/graphql";
import { articlePath, providerPath, topicPath } from "../paths";
import { NotFoundPage } from "./NotFoundPage";

export const ARTICLE = graphql(`
  query ArticleDetail($id: ID!) {
    article(id: $id) {
      ...ArticleCard
      webUrl
      originalUrl
      category
      type
      quality
      heat
      published
      images {
        url
        width
        height
        title
      }
      related {
        title
        excerpt
        publishedDateTime
        webUrl
        provider {
          id
          name
          domain
        }
        article {
          id
          title
        }
      }
      mentionedIn(first: 10) {
        totalCount
        edges {
          cursor
          node {
            id
            title
            publishedDateTime
            provider {
              id
              name
            }
          }
        }
      }
    }
  }
`);

type Article = NonNullable<ArticleDetailQuery["article"]>;

/** A malformed id is refused as bad input: for a reader, that is an unknown article too. */
function isBadId(error: unknown): boolean {
  return (
    CombinedGraphQLErrors.is(error) &&
    error.errors.some((e) => e.extensions?.code === "BAD_USER_INPUT")
  );
}

export function ArticlePage() {
  const id = useParams().id ?? "";
  const { data, loading, error, refetch } = useQuery(ARTICLE, { variables: { id } });
  if ((data && !data.article) || isBadId(error)) return <NotFoundPage what="article" />;
  const article = data?.article;
  return (
    <>
      <QueryState loading={loading} error={error} hasData={!!data} onRetry={() => refetch()} />
      {article && <ArticleView article={article} />}
    </>
  );
}

function ArticleView({ article }: { article: Article }) {
  const facts: [string, string | number | null | undefined][] = [
    ["Category", article.category],
    ["Type", article.type],
    ["Quality", article.quality],
    ["Heat", article.heat],
    ["Published", article.published == null ? null : article.published ? "yes" : "no"],
  ];
  return (
    <article className="article" aria-labelledby="article-title">
      <h1 id="article-title">{article.title}</h1>
      <p className="meta">
        <Link to={providerPath(article.provider.domain)}>{article.provider.name}</Link>
        {" · "}
        <Time value={article.publishedDateTime} />
        {" · "}
        <a href={article.webUrl} rel="noreferrer noopener">
          Read at {article.provider.domain}
        </a>
      </p>
      {article.excerpt && <p className="lead">{article.excerpt}</p>}
      {article.images.map((image) => (
        <figure key={image.url}>
          <img src={image.url} alt={image.title ?? ""} loading="lazy" referrerPolicy="no-referrer" />
          {image.title && <figcaption>{image.title}</figcaption>}
        </figure>
      ))}
      <dl className="facts">
        {facts
          .filter(([, value]) => value != null)
          .map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{value}</dd>
            </div>
          ))}
      </dl>
      {article.topics.length > 0 && (
        <ul className="topics" aria-label="Topics">
          {article.topics.map((topic) => (
            <li key={topic.id}>
              <Link to={topicPath(topic.name)}>{topic.name}</Link>
            </li>
          ))}
        </ul>
      )}
      <RelatedItems items={article.related} />
      <MentionedIn connection={article.mentionedIn} />
    </article>
  );
}

function RelatedItems({ items }: { items: Article["related"] }) {
  if (items.length === 0) return null;
  return (
    <section aria-labelledby="related-title">
      <h2 id="related-title">Related coverage</h2>
      <ul className="related">
        {items.map((item) => (
          <li key={item.webUrl}>
            {item.article ? (
              <Link to={articlePath(item.article.id)}>{item.title}</Link>
            ) : (
              <a href={item.webUrl} rel="noreferrer noopener">
                {item.title}
              </a>
            )}
            {item.provider && <span className="meta"> · {item.provider.name}</span>}
            {item.publishedDateTime && (
              <span className="meta">
                {" · "}
                <Time value={item.publishedDateTime} />
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function MentionedIn({ connection }: { connection: Article["mentionedIn"] }) {
  if (connection.totalCount === 0) return null;
  return (
    <section aria-labelledby="mentioned-title">
      <h2 id="mentioned-title">Mentioned in ({connection.totalCount})</h2>
      <ul className="related">
        {connection.edges.map(({ node }) => (
          <li key={node.id}>
            <Link to={articlePath(node.id)}>{node.title}</Link>
            <span className="meta">
              {" · "}
              {node.provider.name} · <Time value={node.publishedDateTime} />
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
