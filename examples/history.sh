#!/usr/bin/env bash
# History: the event store is the only source of truth. An organization's
# audit log lists every event that touched it; its panel and invitation lists
# can be asked as of any past instant; operators rebuild a read model from the
# events while the service serves.
source "$(dirname "$0")/lib.sh"

# a story to look back on: Claire invites Samir, who accepts
CLAIRE=$(token --sub "claire-$RUN" --email "claire.$RUN@acme.example" --name "Claire Martin")
SAMIR=$(token --sub "samir-$RUN" --email "samir.$RUN@plomberie.example" --name "Samir Haddad")
ACME=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"name\":\"Acme Travaux $RUN\",\"side\":\"client\"}" | jq -r .id)
PLOMB=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $SAMIR" -H "$JSON" \
  -d "{\"name\":\"Samir Plomberie $RUN\",\"side\":\"subcontractor\"}" | jq -r .id)
INV=$(call 201 -X POST "$BASE/v1/organizations/$ACME/invitations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"email\":\"samir.$RUN@plomberie.example\"}" | jq -r .id)
call 200 -X POST "$BASE/v1/invitations/$INV/accept" -H "Authorization: Bearer $SAMIR" -H "$JSON" \
  -d "{\"organization_id\":\"$PLOMB\"}" >/dev/null
POS=$(position)

# an organization's audit log: every event that touched it, in the log's order
AUDIT=$(call 200 "$BASE/v1/organizations/$ACME/audit?limit=50&min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$AUDIT" '[.items[].type] | index("OrganizationCreated") == 0 and index("InvitationSent") and index("InvitationAccepted")'
check "$AUDIT" --arg claire "claire-$RUN" '.items[0].actor.user_id == $claire'

# everything from a cursor on, streamed in constant memory, as CSV or JSON lines
CSV=$(curl -sS -f "$BASE/v1/organizations/$ACME/audit?format=csv" -H "Authorization: Bearer $CLAIRE")
JSONL=$(curl -sS -f "$BASE/v1/organizations/$ACME/audit?format=jsonl" -H "Authorization: Bearer $CLAIRE")
head -n 2 <<<"$CSV" | cut -c 1-120
check "$(jq -s . <<<"$JSONL")" --argjson audit "$AUDIT" 'map(.type) == ($audit.items | map(.type))'

# "who was in my panel when the invitation went out?": the rows true at that
# instant, read by an index from the read models' history (each row keeps
# the instant it became true; what it replaced is kept beside it)
SENT_AT=$(jq -r '.items[] | select(.type == "InvitationSent") | .occurred_at' <<<"$AUDIT")
THEN=$(call 200 "$BASE/v1/organizations/$ACME/partners?as_of=$SENT_AT" -H "Authorization: Bearer $CLAIRE")
check "$THEN" '.items == []'
THEN=$(call 200 "$BASE/v1/organizations/$ACME/invitations/sent?as_of=$SENT_AT" -H "Authorization: Bearer $CLAIRE")
check "$THEN" --arg inv "$INV" '[.items[] | {id, status}] == [{id: $inv, status: "sent"}]'
NOW=$(call 200 "$BASE/v1/organizations/$ACME/partners?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$NOW" --arg plomb "$PLOMB" '[.items[].organization_id] == [$plomb]'

## Operators: the partners:admin scope

ADMIN=$(token --sub "ops-$RUN" --email "ops.$RUN@example.com" --admin)
# rebuild a read model beside the live one while the service serves and
# writes, catch up with the live position, swap the tables atomically
call 202 -X POST "$BASE/v1/admin/projections/partners/rebuild" -H "Authorization: Bearer $ADMIN" >/dev/null
for _ in $(seq 300); do
  PROJECTIONS=$(call 200 "$BASE/v1/admin/projections" -H "Authorization: Bearer $ADMIN")
  if check "$PROJECTIONS" '.items[] | select(.name == "partners") | .rebuild.state == "done"' 2>/dev/null; then break; fi
  sleep 0.2
done
check "$PROJECTIONS" '.items[] | select(.name == "partners") | .rebuild.state == "done" and .state == "live"'
NOW=$(call 200 "$BASE/v1/organizations/$ACME/partners" -H "Authorization: Bearer $CLAIRE")
check "$NOW" --arg plomb "$PLOMB" '[.items[].organization_id] == [$plomb]'

# one stream, in order (the last event is the notice of the answer to Claire)
EVENTS=$(call 200 "$BASE/v1/admin/streams/invitation-$INV/events" -H "Authorization: Bearer $ADMIN")
check "$EVENTS" '[.items[].type] == ["InvitationSent", "InvitationAccepted", "InvitationAnswerNoticeSent"]'
