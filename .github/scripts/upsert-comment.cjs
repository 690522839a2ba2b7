// Create or update, in place, the one pull-request comment that belongs to a marker.
//
// A comment belongs to MARKER when its FIRST LINE is exactly MARKER (e.g. `<!-- floyo-diff:dev -->`)
// and it was written by the bot that runs this workflow. Exact first-line equality (no prefix or
// substring match) is what keeps the `dev` comment from ever overwriting `dev-eu`'s.
//
// Used from actions/github-script:
//   const upsert = require('./.github/scripts/upsert-comment.cjs');
//   await upsert({ github, context, marker, body });
"use strict";

const BOT = "github-actions[bot]";
const LIMIT = 65536; // GitHub's comment body limit, in characters

function ownsMarker(comment, marker) {
  const firstLine = (comment.body || "").split(/\r?\n/, 1)[0].trim();
  return firstLine === marker && (!comment.user || comment.user.login === BOT);
}

async function upsert({ github, context, marker, body }) {
  if (!/^<!-- [a-z0-9:._-]+ -->$/.test(marker)) throw new Error(`bad marker ${JSON.stringify(marker)}`);
  let text = body.startsWith(marker + "\n") ? body : `${marker}\n${body}`;
  if (text.length > LIMIT) text = text.slice(0, LIMIT - 40) + "\n\n_(cut to fit the comment limit)_";
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const mine = comments.filter((c) => ownsMarker(c, marker));
  if (mine.length === 0) {
    await github.rest.issues.createComment({ owner, repo, issue_number, body: text });
    return "created";
  }
  await github.rest.issues.updateComment({ owner, repo, comment_id: mine[0].id, body: text });
  for (const extra of mine.slice(1)) {
    await github.rest.issues.deleteComment({ owner, repo, comment_id: extra.id }); // heal old duplicates
  }
  return "updated";
}

module.exports = upsert;
module.exports.ownsMarker = ownsMarker;
