import { useApolloClient, useSubscription } from "@apollo/client/react";
import { useState } from "react";
import type { ArticleCardFragment } from "../gql/graphql";
import { ARTICLE_ADDED } from "./operations";
import { prependToFeed } from "./prependToFeed";

// Once the server has refused the subscription, it is not asked again until the
// page is reloaded (coming back to the feed does not open another socket).
let refusedOnThisLoad = false;

/** "N new articles": collects what `articleAdded` announces and puts it at the top
 * of the home feed when clicked. Feature check without introspection: the
 * subscription is simply tried; a server without it answers with an error, and
 * the banner stays hidden for the rest of the page's life. */
export function LiveBanner() {
  const client = useApolloClient();
  const [pending, setPending] = useState<ArticleCardFragment[]>([]);
  const [unsupported, setUnsupported] = useState(refusedOnThisLoad);
  useSubscription(ARTICLE_ADDED, {
    skip: unsupported,
    onData: ({ data }) => {
      const added = data.data?.articleAdded;
      if (added) setPending((current) => [added, ...current.filter((a) => a.id !== added.id)]);
    },
    onError: () => {
      refusedOnThisLoad = true;
      setUnsupported(true);
    },
  });
  if (unsupported || pending.length === 0) return null;
  const show = () => {
    prependToFeed(client.cache, pending);
    setPending([]);
    window.scrollTo({ top: 0 });
  };
  return (
    <div className="live-banner" role="status">
      <button type="button" onClick={show}>
        {pending.length === 1 ? "1 new article" : `${pending.length} new articles`}
      </button>
    </div>
  );
}
