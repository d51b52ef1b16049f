#!/usr/bin/env bash
# Provenance: an auditor reads the seed 001 story back. Marie's organization
# shows a contract to Jean (the requester) and Léa (a watcher); Léa's company
# changes and she loses access; the contract is withdrawn. Anaïs, the
# organization's accountant, audits it: who could see the contract, and who
# gave them that? Why may Thomas manage the team, and since when?
source "$(dirname "$0")/lib.sh"

MARIE=$(token --sub "marie-$RUN" --email "marie.$RUN@btp-conseil.example" --name "Marie Laurent")
ANAIS=$(token --sub "anais-$RUN" --email "anais.$RUN@audit.example" --name "Anaïs Girard")
THOMAS=$(token --sub "thomas-$RUN" --email "thomas.$RUN@btp-conseil.example" --name "Thomas Weber")
ORG=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"name\":\"BTP Conseil $RUN\",\"side\":\"subcontractor\"}" | jq -r .id)

# the story: Anaïs is given accountant access (audit.read), Thomas joins the team
GRANT=$(call 201 -X POST "$BASE/v1/organizations/$ORG/accountants" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"anais.$RUN@audit.example\"}")
call 200 -X POST "$BASE/v1/accountant-invitations/$(jq -r .id <<<"$GRANT")/accept" -H "Authorization: Bearer $ANAIS" -H "$JSON" \
  -d "{\"token\":\"$(jq -r .token <<<"$GRANT")\"}" >/dev/null
INVITE=$(call 201 -X POST "$BASE/v1/organizations/$ORG/member-invitations" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"thomas.$RUN@btp-conseil.example\",\"role\":\"member\"}")
call 200 -X POST "$BASE/v1/member-invitations/$(jq -r .id <<<"$INVITE")/accept" -H "Authorization: Bearer $THOMAS" -H "$JSON" \
  -d "{\"token\":\"$(jq -r .token <<<"$INVITE")\"}" >/dev/null
JEAN=$(call 201 -X POST "$BASE/v1/organizations/$ORG/portal-users" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"jean.$RUN@client.example\",\"name\":\"Jean Martin\",\"company\":\"Client SA\"}" | jq -r .id)
LEA=$(call 201 -X POST "$BASE/v1/organizations/$ORG/portal-users" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"lea.$RUN@client.example\",\"name\":\"Léa Petit\",\"company\":\"Client SA\"}" | jq -r .id)
SHARED_AT=$(call 201 -X PUT "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"title\":\"Rénovation toiture\",\"requester_id\":\"$JEAN\",\"watcher_ids\":[\"$LEA\"],\"attachments_visible\":true}" | jq -r .shared_at)
call 200 -X PATCH "$BASE/v1/organizations/$ORG/members/thomas-$RUN" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d '{"role":"admin"}' >/dev/null
call 200 -X PATCH "$BASE/v1/organizations/$ORG/portal-users/$LEA" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d '{"company":"Other Ltd"}' >/dev/null
POS=$(position)
for _ in $(seq 50); do # the process manager withdraws Léa's access a moment later
  PORTAL=$(call 200 "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal?min_position=$POS" -H "Authorization: Bearer $MARIE")
  if check "$PORTAL" '.watchers == []' 2>/dev/null; then break; fi
  sleep 0.1
done
call 204 -X DELETE "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE"

## The audit, from the API alone, one call per question

# "who could see this contract since it was shown, and who gave them that?"
ACCESS=$(call 200 "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/access?from=$SHARED_AT" -H "Authorization: Bearer $ANAIS")
jq -r '.items[] | "\(.who.name) as \(.as): \(.opened_by.type) → \(.closed_by.type)"' <<<"$ACCESS"
check "$ACCESS" --arg lea "$LEA" '[.items[] | select(.who.id == $lea) | .closed_by.summary] | .[0] | contains("company_mismatch")'
check "$ACCESS" --arg thomas "thomas-$RUN" '[.items[] | select(.who.id == $thomas) | .as] == ["member", "admin"]'
check "$ACCESS" '[.items[].closed_by] | all(. != null)'

# "why may Thomas manage the team?": the events the answer rests on
WHY=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=thomas-$RUN&action=members.manage&explain=true" \
  -H "Authorization: Bearer $ANAIS")
jq -r '.because[] | "\(.type) by \(.actor.user_id | split("-")[0]): \(.summary | sub("-[0-9a-f]{8}"; ""; "g"))"' <<<"$WHY"
check "$WHY" '.allowed == true and .role == "admin" and [.because[].type] == ["MemberJoined", "MemberRoleChanged"]'

# "and before his promotion?": the same question as of the instant the contract was shown
THEN=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=thomas-$RUN&action=members.manage&explain=true&as_of=$SHARED_AT" \
  -H "Authorization: Bearer $ANAIS")
check "$THEN" '.allowed == false and .role == "member" and [.because[].type] == ["MemberJoined"]'

# "since when, and who gave it?": one row per interval
HISTORY=$(call 200 "$BASE/v1/organizations/$ORG/members/thomas-$RUN/history" -H "Authorization: Bearer $ANAIS")
check "$HISTORY" '[.items[] | {role, open: (.to == null)}] == [{role: "member", open: false}, {role: "admin", open: true}]'

# the same, for the files: CSV, like the audit log
curl -sS -f "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/access?format=csv" -H "Authorization: Bearer $ANAIS" | head -n 1 | cut -d, -f 1-6
