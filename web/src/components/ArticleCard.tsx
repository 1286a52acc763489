import { Link } from "react-router";
import type { ArticleCardFragment } from "../gql/graphql";
import { articlePath, providerPath, topicPath } from "../paths";
import { type Highlights, Marked } from "../search/Marked";
import { Time } from "./Time";

/** highlights: a search result's title and excerpt, with the matched words marked. */
type Props = { article: ArticleCardFragment; highlights?: Highlights };

export function ArticleCard({ article, highlights }: Props) {
  const image = article.leadImage;
  return (
    <article className="card" aria-labelledby={`title-${article.id}`}>
      {image && (
        // Article images are the feed's content, on the publisher's host; the
        // app itself loads nothing from anywhere but the API.
        <img
          src={image.url}
          alt={image.title ?? ""}
          width={image.width ?? undefined}
          height={image.height ?? undefined}
          loading="lazy"
          referrerPolicy="no-referrer"
          onError={(event) => {
            event.currentTarget.hidden = true; // an unreachable image takes no room
          }}
        />
      )}
      <h2 id={`title-${article.id}`}>
        <Link to={articlePath(article.id)} className="card-link">
          {highlights ? <Marked html={highlights.title} /> : article.title}
        </Link>
      </h2>
      <p className="meta">
        <Link to={providerPath(article.provider.domain)}>{article.provider.name}</Link>
        {" · "}
        <Time value={article.publishedDateTime} />
      </p>
      {article.excerpt && (
        <p className="excerpt">
          {highlights?.excerpt ? <Marked html={highlights.excerpt} /> : article.excerpt}
        </p>
      )}
      {article.topics.length > 0 && (
        <ul className="topics" aria-label="Topics">
          {article.topics.map((topic) => (
            <li key={topic.id}>
              <Link to={topicPath(topic.name)}>{topic.name}</Link>
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
