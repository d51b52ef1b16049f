#!/usr/bin/env bash
# Seed 000: Claire, who runs the client Acme Travaux, invites subcontractors,
# with their contact details (seed 004).
# Story 1: Samir sees the invitation as he signs up with the invited email,
# creates his organization and accepts; each partner then opens the other's
# details pane.
# Story 2: Bruno signs up with another email, claims the invitation with its
# link, and accepts.
source "$(dirname "$0")/lib.sh"

CLAIRE=$(token --sub "claire-$RUN" --email "claire.$RUN@acme.example" --name "Claire Martin")
SAMIR=$(token --sub "samir-$RUN" --email "samir.$RUN@plomberie.example" --name "Samir Haddad")
ACME=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"name\":\"Acme Travaux $RUN\",\"side\":\"client\"}" | jq -r .id)

# InviteSubcontractor: the answer holds the link to pass on by other means;
# the same link goes out by email (./mail/*.eml without SMTP), in French here,
# greeting the contact named on the form (seed 004: name, company, phone, all
# optional, the phone normalised to E.164; a bad one is 422 on contact.phone)
SENT=$(call 201 -X POST "$BASE/v1/organizations/$ACME/invitations" -H "Authorization: Bearer $CLAIRE" -H "$JSON" \
  -d "{\"email\":\"samir.$RUN@plomberie.example\",\"message\":\"Bonjour Samir, rejoignez notre panel.\",\"locale\":\"fr\",
       \"contact\":{\"name\":\"Samir Haddad\",\"company\":\"Plomberie Haddad\",\"phone\":\"06 12 34 56 78\"}}")
check "$SENT" '.status == "sent" and .token as $t | (.invitation_url | endswith("/invitations/" + $t))'
check "$SENT" '.contact == {name: "Samir Haddad", company: "Plomberie Haddad", phone: "+33612345678"}'
INV=$(jq -r .id <<<"$SENT")
TOKEN=$(jq -r .token <<<"$SENT")
POS=$(position)

# what the link's landing page shows, without signing in (the token goes in
# the body, never in a URL, so that it stays out of proxies' logs)
PREVIEW=$(call 200 -X POST "$BASE/v1/invitations/preview" -H "$JSON" -d "{\"token\":\"$TOKEN\"}")
check "$PREVIEW" --arg inv "$INV" '.id == $inv and .inviter.side == "client" and .invitee_side == "subcontractor" and .status == "sent"'
check "$PREVIEW" 'has("contact") == false'

# Claire's "Invitations sent" shows the contact details; nobody else is shown
# them (not the preview, not whoever claims or answers the invitation)
SENT_LIST=$(call 200 "$BASE/v1/organizations/$ACME/invitations/sent?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$SENT_LIST" --arg inv "$INV" \
  '[.items[].id] == [$inv] and .items[0].contact == {name: "Samir Haddad", company: "Plomberie Haddad", phone: "+33612345678"}'

## Story 1: Samir signs up with the invited email

# the window at sign-up: before he has any organization, the pending
# invitations sent to his verified email, who invites and on which side he
# would be
WINDOW=$(call 200 "$BASE/v1/me/invitations?min_position=$POS" -H "Authorization: Bearer $SAMIR")
check "$WINDOW" --arg inv "$INV" --arg acme "$ACME" \
  '[.items[].id] == [$inv] and .items[0].inviter.id == $acme and .items[0].inviter.side == "client" and .items[0].invitee_side == "subcontractor"'

# he creates his organization on that side
ORG=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $SAMIR" -H "$JSON" \
  -d "{\"name\":\"Samir Plomberie $RUN\",\"side\":\"subcontractor\",\"siret\":\"$(siret)\"}")
PLOMB=$(jq -r .id <<<"$ORG")
# an instant before the partnership, on the server's clock, to look back at below
BEFORE=$(jq -r .created_at <<<"$ORG")
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

# the partner's details pane (seed 004), with its owners and admins as
# contacts: each of the two partners sees the other's
PANE=$(call 200 "$BASE/v1/organizations/$ACME/partners/$PLOMB?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$PANE" --argjson org "$ORG" --arg inv "$INV" --arg email "samir.$RUN@plomberie.example" \
  '.organization_id == $org.id and .siret == $org.siret and .side == "subcontractor" and .invitation_id == $inv
   and .contacts == [{name: "Samir Haddad", email: $email, role: "owner"}]'
PANE=$(call 200 "$BASE/v1/organizations/$PLOMB/partners/$ACME?min_position=$POS" -H "Authorization: Bearer $SAMIR")
check "$PANE" --arg acme "$ACME" --arg email "claire.$RUN@acme.example" \
  '.organization_id == $acme and .side == "client" and .contacts == [{name: "Claire Martin", email: $email, role: "owner"}]'
# as of an instant before the partnership, they were not partners
THEN=$(call 404 "$BASE/v1/organizations/$ACME/partners/$PLOMB?as_of=$BEFORE" -H "Authorization: Bearer $CLAIRE")
check "$THEN" '.code == "not_found"'

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
# a claim is not a partnership: no details pane either way, as for an unknown id
PANE=$(call 404 "$BASE/v1/organizations/$ELEC/partners/$ACME" -H "Authorization: Bearer $BRUNO")
check "$PANE" '.code == "not_found"'

ACCEPTED=$(call 200 -X POST "$BASE/v1/invitations/$INV2/accept" -H "Authorization: Bearer $BRUNO" -H "$JSON" \
  -d "{\"organization_id\":\"$ELEC\"}")
check "$ACCEPTED" '.invitation.status == "accepted"'
POS=$(position)
PANEL=$(call 200 "$BASE/v1/organizations/$ACME/partners?min_position=$POS" -H "Authorization: Bearer $CLAIRE")
check "$PANEL" --arg plomb "$PLOMB" --arg elec "$ELEC" '([.items[].organization_id] | sort) == ([$plomb, $elec] | sort)'
PANE=$(call 200 "$BASE/v1/organizations/$ELEC/partners/$ACME?min_position=$POS" -H "Authorization: Bearer $BRUNO")
check "$PANE" --arg acme "$ACME" --arg inv "$INV2" '.organization_id == $acme and .invitation_id == $inv'
