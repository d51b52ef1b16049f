#!/usr/bin/env bash
# An organization and its members: Alice creates Acme Travaux and becomes its
# owner; a stranger cannot see it.
source "$(dirname "$0")/lib.sh"

# a token for the development secret (its email marked email_verified: true,
# as an identity provider would: an unverified email addresses no one)
ALICE=$(token --sub "alice-$RUN" --email "alice.$RUN@acme.example" --name "Alice Martin")

# create an organization; the caller becomes its owner
ORG=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $ALICE" -H "$JSON" \
  -d "{\"name\":\"Acme Travaux $RUN\",\"side\":\"client\",\"siret\":\"$(siret)\"}")
check "$ORG" '.side == "client" and (.siret | length) == 14'
ACME=$(jq -r .id <<<"$ORG")
POS=$(position)

# read your own write: the command's X-Event-Position is the min_position to wait for
MEMBERS=$(call 200 "$BASE/v1/organizations/$ACME/members?min_position=$POS" -H "Authorization: Bearer $ALICE")
check "$MEMBERS" '.items == [.items[0]] and .items[0].role == "owner" and .items[0].name == "Alice Martin"'

MINE=$(call 200 "$BASE/v1/me/organizations?min_position=$POS" -H "Authorization: Bearer $ALICE")
check "$MINE" --arg org "$ACME" '.items[] | select(.organization_id == $org) | .role == "owner"'

# errors are application/problem+json with a stable code, naming each bad field
PROBLEM=$(call 422 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $ALICE" -H "$JSON" \
  -d '{"name":"X","side":"supplier","siret":"123"}')
check "$PROBLEM" '.code == "validation_failed" and ([.errors[].field] | sort) == ["side","siret"]'

# someone outside the organization gets 404, exactly like an unknown id
BOB=$(token --sub "bob-$RUN" --email "bob.$RUN@elsewhere.example" --name "Bob Stranger")
call 404 "$BASE/v1/organizations/$ACME" -H "Authorization: Bearer $BOB" >/dev/null
call 404 "$BASE/v1/organizations/00000000-0000-4000-8000-000000000000" -H "Authorization: Bearer $BOB" >/dev/null
