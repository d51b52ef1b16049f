#!/usr/bin/env bash
# Seed 002: Nadia owns the cleaning company Always Clean; Ludovic is her
# accountant: all the data, none of the settings, until she revokes him.
source "$(dirname "$0")/lib.sh"

NADIA=$(token --sub "nadia-$RUN" --email "nadia.$RUN@alwaysclean.example" --name "Nadia Benali")
LUDO=$(token --sub "ludo-$RUN" --email "ludovic.$RUN@cabinet-compta.example" --name "Ludovic Roux")
ORG=$(call 201 -X POST "$BASE/v1/organizations" -H "Authorization: Bearer $NADIA" -H "$JSON" \
  -d "{\"name\":\"Always Clean $RUN\",\"side\":\"subcontractor\",\"siret\":\"$(siret)\"}" | jq -r .id)

# GrantAccountantAccess (Settings > Accès comptable): an invitation with a link, by email
GRANT=$(call 201 -X POST "$BASE/v1/organizations/$ORG/accountants" -H "Authorization: Bearer $NADIA" -H "$JSON" \
  -d "{\"email\":\"ludovic.$RUN@cabinet-compta.example\",\"message\":\"Accès comptable\"}")
check "$GRANT" '.status == "sent" and .role == "accountant" and (.token | length) > 20'
INV=$(jq -r .id <<<"$GRANT")
TOKEN=$(jq -r .token <<<"$GRANT")

# Ludovic accepts from his own account (any account: the token opens it)
call 200 -X POST "$BASE/v1/accountant-invitations/$INV/accept" -H "Authorization: Bearer $LUDO" -H "$JSON" \
  -d "{\"token\":\"$TOKEN\"}" >/dev/null
POS=$(position)
CLIENTS=$(call 200 "$BASE/v1/me/accountant-clients?min_position=$POS" -H "Authorization: Bearer $LUDO")
check "$CLIENTS" --arg org "$ORG" '[.items[].organization_id] == [$org]'

# all the data, none of the settings
ALLOWED=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=ludo-$RUN&action=documents.read_all&min_position=$POS" -H "Authorization: Bearer $NADIA")
check "$ALLOWED" '.allowed == true and .role == "accountant"'
DENIED=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=ludo-$RUN&action=settings.read&min_position=$POS" -H "Authorization: Bearer $NADIA")
check "$DENIED" '.allowed == false and .role == "accountant"'

# revoked: the very next check made at the revocation's position answers without it
call 204 -X DELETE "$BASE/v1/organizations/$ORG/accountants/ludo-$RUN" -H "Authorization: Bearer $NADIA"
REVOKED=$(call 200 "$BASE/v1/organizations/$ORG/authorize?user_id=ludo-$RUN&action=documents.read_all&min_position=$(position)" \
  -H "Authorization: Bearer $NADIA")
check "$REVOKED" '.allowed == false and .role == null'
# and he reads nothing there any more
call 404 "$BASE/v1/organizations/$ORG" -H "Authorization: Bearer $LUDO" >/dev/null
