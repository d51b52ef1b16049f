#!/usr/bin/env bash
# Seed 003: collaborators of Always Clean. Hugo's account is created by Nadia,
# the owner, and he activates it; Eva asks to be attached by the company's
# SIRET, and Nadia approves her.
source "$(dirname "$0")/lib.sh"

NADIA=$(token --sub "nadia-$RUN" --email "nadia.$RUN@alwaysclean.example" --name "Nadia Benali")
SIRET=$(siret)
ORG=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $NADIA" -H "$JSON" \
  -d "{\"name\":\"Always Clean $RUN\",\"side\":\"subcontractor\",\"siret\":\"$SIRET\"}" | jq -r .id)

## First path: Nadia creates the account; Hugo activates it

CREATED=$(call 201 -X POST "$BASE/v1/organizations/$ORG/collaborators" -H "Authorization: Bearer $NADIA" -H "$JSON" \
  -d "{\"first_name\":\"Hugo\",\"last_name\":\"Moreau\",\"email\":\"hugo.$RUN@alwaysclean.example\",\"phone\":\"06 12 34 56 78\",\"can_purchase\":true,\"can_see_all_orders\":false}")
check "$CREATED" '.status == "invited" and .phone == "+33612345678"'
HUGO=$(token --sub "hugo-$RUN" --email "hugo.$RUN@alwaysclean.example" --name "Hugo Moreau")
JOINED=$(call 200 -X POST "$BASE/v1/collaborators/activate" -H "Authorization: Bearer $HUGO" -H "$JSON" \
  -d "{\"token\":\"$(jq -r .token <<<"$CREATED")\"}")
check "$JOINED" --arg org "$ORG" '.organization_id == $org and .role == "collaborator" and .can_purchase == true and .can_see_all_orders == false'

# he may buy, and sees only his own orders
MAY=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=hugo-$RUN&action=orders.create&min_position=$(position)" -H "Authorization: Bearer $NADIA")
check "$MAY" '.allowed == true and .role == "collaborator"'
MAY=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=hugo-$RUN&action=orders.read_all" -H "Authorization: Bearer $NADIA")
check "$MAY" '.allowed == false'

## Second path: Eva asks to be attached, by SIRET or by the owner's email

# the answer is the same whether or not such an account exists
EVA=$(token --sub "eva-$RUN" --email "eva.$RUN@alwaysclean.example" --name "Eva Blanc")
REQUEST=$(call 202 -X POST "$BASE/v1/collaboration-requests" -H "Authorization: Bearer $EVA" -H "$JSON" \
  -d "{\"target\":\"$SIRET\"}")
check "$REQUEST" '.status == "pending"'
REQ=$(jq -r .id <<<"$REQUEST")
POS=$(position)
NOBODY=$(call 202 -X POST "$BASE/v1/collaboration-requests" -H "Authorization: Bearer $EVA" -H "$JSON" \
  -d "{\"target\":\"nobody.$RUN@nowhere.example\"}")
check "$NOBODY" '.status == "pending" and keys == ["id","status"]'

# Nadia sees the request (matched by the SIRET) and its badge
PENDING=$(call 200 "$BASE/v1/organizations/$ORG/collaboration-requests?status=pending&min_position=$POS" -H "Authorization: Bearer $NADIA")
check "$PENDING" --arg req "$REQ" --arg eva "eva-$RUN" \
  '[.items[].id] == [$req] and .items[0].requester.user_id == $eva and .items[0].matched_by == "siret"'
BADGES=$(call 200 "$BASE/v1/organizations/$ORG/badges?min_position=$POS" -H "Authorization: Bearer $NADIA")
check "$BADGES" '.pending_collaboration_requests == 1'

# she approves it, choosing the two permissions
APPROVED=$(call 200 -X POST "$BASE/v1/organizations/$ORG/collaboration-requests/$REQ/approve" -H "Authorization: Bearer $NADIA" -H "$JSON" \
  -d '{"can_purchase":false,"can_see_all_orders":true}')
check "$APPROVED" '.request.status == "approved" and .membership.role == "collaborator"'
APPROVED_AT=$(position)
COLLABORATORS=$(call 200 "$BASE/v1/organizations/$ORG/collaborators?min_position=$(position)" -H "Authorization: Bearer $NADIA")
check "$COLLABORATORS" --arg hugo "hugo-$RUN" --arg eva "eva-$RUN" \
  '([.items[] | {user_id, can_purchase, can_see_all_orders}] | sort_by(.user_id)) ==
   ([{user_id: $eva, can_purchase: false, can_see_all_orders: true}, {user_id: $hugo, can_purchase: true, can_see_all_orders: false}] | sort_by(.user_id))'

# Eva follows her requests; the one to nobody stays pending, revealing nothing
MINE=$(call 200 "$BASE/v1/me/collaboration-requests?min_position=$APPROVED_AT" -H "Authorization: Bearer $EVA")
check "$MINE" --arg req "$REQ" --arg org "$ORG" --arg siret "$SIRET" --arg nobody "nobody.$RUN@nowhere.example" \
  '([.items[] | {target, status, org: .organization.id}] | sort_by(.target)) ==
   ([{target: $siret, status: "approved", org: $org}, {target: $nobody, status: "pending", org: null}] | sort_by(.target))'
