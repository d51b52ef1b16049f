#!/usr/bin/env bash
# Seed 000: Claire, who runs the client Acme Travaux, invites subcontractors.
# Story 1: Samir signs up with the invited email and accepts.
# Story 2: Bruno signs up with another email, claims the invitation with its
# link, and accepts.
source "$(dirname "$0")/lib.sh"

CLAIRE=$(token --sub "claire-$RUN" --email "claire.$RUN@acme.example" --name "Claire Martin")
SAMIR=$(token --sub "samir-$RUN" --email "samir.$RUN@plomberie.example" --name "Samir Haddad")
ACME=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"name\":\"Acme Travaux $RUN\",\"side\":\"client\"}" | jq -r .id)

# InviteSubcontractor: the answer holds the link to pass on by other means;
# the same link goes out by email (./mail/*.eml without SMTP), in French here
SENT=$(call 201 -X POST "$BASE/v1/organizations/$ACME/invitations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"email\":\"samir.$RUN@plomberie.example\",\"message\":\"Bonjour Samir, rejoignez notre panel.\",\"locale\":\"fr\"}")
check "$SENT" '.status == "sent" and .token as $t | (.invitation_url | endswith("/invitations/" + $t))'
INV=$(jq -r .id <<<"$SENT")
TOKEN=$(jq -r .token <<<"$SENT")

# what the link's landing page shows, without signing in (the token goes in
# the body, never in a URL, so that it stays out of proxies' logs)
PREVIEW=$(call 200 -X POST "$BASE/v1/invitations/preview" -H "$JSON" -d "{\"token\":\"$TOKEN\"}")
check "$PREVIEW" --arg inv "$INV" '.id == $inv and .inviter.side == "client" and .invitee_side == "subcontractor" and .status == "sent"'

## Story 1: Samir signs up with the invited email

PLOMB=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $SAMIR" -H "$JSON" \
  -d "{\"name\":\"Samir Plomberie $RUN\",\"side\":\"subcontractor\"}" | jq -r .id)
# "My invitations" (the Clients entry) and its red badge show it at once
RECEIVED=$(call 200 "$BASE/v1/organizations/$PLOMB/invitations/received?min_position=$(position)" -H "Authorization: Bearer $SAMIR")
check "$RECEIVED" --arg inv "$INV" '[.items[].id] == [$inv] and .items[0].message == "Bonjour Samir, rejoignez notre panel."'
BADGES=$(call 200 "$BASE/v1/organizations/$PLOMB/badges" -H "Authorization: Bearer $SAMIR")
check "$BADGES" '.pending_invitations == 1'

ACCEPTED=$(call 200 -X POST "$BASE/v1/invitations/$INV/accept" -H "Authorization: Bearer $SAMIR" -H "$JSON" \
  -d "{\"organization_id\":\"$PLOMB\"}")
check "$ACCEPTED" --arg acme "$ACME" --arg plomb "$PLOMB" \
  '.invitation.status == "accepted" and .partnership.client_id == $acme and .partnership.subcontractor_id == $plomb'
POS=$(position)

# Claire's Subcontractors panel, and her "Invitations sent" (Validé = accepted)
PANEL=$(call 200 "$BASE/v1/organizations/$ACME/partners?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$PANEL" --arg plomb "$PLOMB" '[.items[].organization_id] == [$plomb]'
SENT_LIST=$(call 200 "$BASE/v1/organizations/$ACME/invitations/sent?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$SENT_LIST" --arg plomb "$PLOMB" '.items[0].status == "accepted" and .items[0].partner.id == $plomb'

# an invitation is answered once
AGAIN=$(call 409 -X POST "$BASE/v1/invitations/$INV/accept" -H "Authorization: Bearer $SAMIR" -H "$JSON" \
  -d "{\"organization_id\":\"$PLOMB\"}")
check "$AGAIN" '.code == "invitation_answered"'

## Story 2: Bruno signed up with another email than the invited one

BRUNO=$(token --sub "bruno-$RUN" --email "bruno.pro.$RUN@gmail.example" --name "Bruno Leroy")
ELEC=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $BRUNO" -H "$JSON" \
  -d "{\"name\":\"Leroy Électricité $RUN\",\"side\":\"subcontractor\"}" | jq -r .id)
SENT=$(call 201 -X POST "$BASE/v1/organizations/$ACME/invitations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"email\":\"contact.$RUN@leroy-elec.example\",\"locale\":\"fr\"}")
INV2=$(jq -r .id <<<"$SENT")
TOKEN2=$(jq -r .token <<<"$SENT")

# the invitation is not addressed to his organization: his list is empty, and
# Claire keeps seeing "sent" (the support case "my subcontractor signed up
# but is not in my panel")
RECEIVED=$(call 200 "$BASE/v1/organizations/$ELEC/invitations/received?min_position=$(position)" -H "Authorization: Bearer $BRUNO")
check "$RECEIVED" '.items == []'

# he opens the link and claims the invitation for his organization; no answer
# his organization sees holds the invited email
CLAIMED=$(call 200 -X POST "$BASE/v1/invitations/claim" -H "Authorization: Bearer $BRUNO" -H "$JSON" \
  -d "{\"token\":\"$TOKEN2\",\"organization_id\":\"$ELEC\"}")
check "$CLAIMED" --arg elec "$ELEC" '.status == "sent" and .claimed_by == $elec and has("email") == false'
POS=$(position)
RECEIVED=$(call 200 "$BASE/v1/organizations/$ELEC/invitations/received?min_position=$POS" -H "Authorization: Bearer $BRUNO")
check "$RECEIVED" --arg inv "$INV2" '[.items[].id] == [$inv]'
# Claire's "Invitations sent" names the claiming organization (and she is told by email)
SENT_LIST=$(call 200 "$BASE/v1/organizations/$ACME/invitations/sent?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$SENT_LIST" --arg inv "$INV2" --arg elec "$ELEC" \
  '.items[] | select(.id == $inv) | .status == "sent" and .claimed_by.id == $elec'

ACCEPTED=$(call 200 -X POST "$BASE/v1/invitations/$INV2/accept" -H "Authorization: Bearer $BRUNO" -H "$JSON" \
  -d "{\"organization_id\":\"$ELEC\"}")
check "$ACCEPTED" '.invitation.status == "accepted"'
PANEL=$(call 200 "$BASE/v1/organizations/$ACME/partners?min_position=$(position)" -H "Authorization: Bearer $CLAIRE")
check "$PANEL" --arg plomb "$PLOMB" --arg elec "$ELEC" '([.items[].organization_id] | sort) == ([$plomb, $elec] | sort)'
