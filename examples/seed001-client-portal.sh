#!/usr/bin/env bash
# Seed 001: Marie's organization shows a contract in its client portal to its
# client's people: Jean asked for it (the requester) and Léa follows it (a
# watcher). Watchers must belong to the requester's company.
source "$(dirname "$0")/lib.sh"

MARIE=$(token --sub "marie-$RUN" --email "marie.$RUN@btp-conseil.example" --name "Marie Laurent")
ORG=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"name\":\"BTP Conseil $RUN\",\"side\":\"subcontractor\"}" | jq -r .id)

# Settings → Client portal → Manage clients (companies are compared trimmed
# and case-insensitively)
JEAN=$(call 201 -X POST "$BASE/v1/organizations/$ORG/portal-users" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"jean.$RUN@client.example\",\"name\":\"Jean Martin\",\"company\":\"Client SA\"}" | jq -r .id)
LEA=$(call 201 -X POST "$BASE/v1/organizations/$ORG/portal-users" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"lea.$RUN@client.example\",\"name\":\"Léa Petit\",\"company\":\" client sa \"}" | jq -r .id)
PAUL=$(call 201 -X POST "$BASE/v1/organizations/$ORG/portal-users" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"email\":\"paul.$RUN@other.example\",\"name\":\"Paul Durand\",\"company\":\"Other Ltd\"}" | jq -r .id)

# "Show in the client portal" with a watcher of another company: refused, naming him
REFUSED=$(call 422 -X PUT "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"title\":\"Rénovation toiture\",\"requester_id\":\"$JEAN\",\"watcher_ids\":[\"$PAUL\"],\"attachments_visible\":true}")
check "$REFUSED" '.code == "company_mismatch" and (.detail | contains("Paul Durand"))'

# with Léa: shared; Jean and Léa each get "a contract is shared with you" by email
SHARE=$(call 201 -X PUT "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"title\":\"Rénovation toiture\",\"requester_id\":\"$JEAN\",\"watcher_ids\":[\"$LEA\"],\"attachments_visible\":true}")
check "$SHARE" --arg jean "$JEAN" --arg lea "$LEA" '.requester.id == $jean and [.watchers[].id] == [$lea]'

# Léa's Contracts page in the portal
CONTRACTS=$(call 200 "$BASE/v1/organizations/$ORG/portal-users/$LEA/contracts?min_position=$(position)" -H "Authorization: Bearer $MARIE")
check "$CONTRACTS" '.items == [{"contract_id":"CTR-2026-001","title":"Rénovation toiture","as":"watcher","attachments_visible":true}]'

# later: flip the attachments switch, remove a watcher, add one back (ShareContractWithWatcher)
SHARE=$(call 200 -X PATCH "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d '{"attachments_visible":false}')
check "$SHARE" '.attachments_visible == false'
call 204 -X DELETE "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/watchers/$LEA" -H "Authorization: Bearer $MARIE"
SHARE=$(call 200 -X POST "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/watchers" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d "{\"portal_user_id\":\"$LEA\"}")
check "$SHARE" --arg lea "$LEA" '[.watchers[].id] == [$lea]'

# Léa's company changes: a process manager (a Watermill handler) withdraws her
# access by an event of its own, WatcherAccessWithdrawn (reason company_mismatch),
# a moment after the answer: nothing gives that event's position, so look again
LEA_NOW=$(call 200 -X PATCH "$BASE/v1/organizations/$ORG/portal-users/$LEA" -H "Authorization: Bearer $MARIE" -H "$JSON" \
  -d '{"company":"Other Ltd"}')
check "$LEA_NOW" '.company == "Other Ltd"'
for _ in $(seq 50); do
  PORTAL=$(call 200 "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE")
  if check "$PORTAL" '.watchers == []' 2>/dev/null; then break; fi
  sleep 0.1
done
check "$PORTAL" '.watchers == []'

# withdraw the contract from the portal
call 204 -X DELETE "$BASE/v1/organizations/$ORG/contracts/CTR-2026-001/portal" -H "Authorization: Bearer $MARIE"
CONTRACTS=$(call 200 "$BASE/v1/organizations/$ORG/portal-users/$JEAN/contracts?min_position=$(position)" -H "Authorization: Bearer $MARIE")
check "$CONTRACTS" '.items == []'
