package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// NewToken makes a link secret: 256 bits from crypto/rand, base64url. Only
// its hash is ever stored with the invitation.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte("partners token v1:" + token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches compares a presented token with a stored hash in constant
// time.
func TokenMatches(token, storedHash string) bool {
	got := HashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(storedHash)) == 1
}

// ValidTokenShape rejects, before any lookup, what cannot be a token.
func ValidTokenShape(token string) bool {
	if len(token) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// TokenKey is the reservation key under which a token's hash points at the
// invitation it opens (for lookups by token, and so a resend frees it).
func TokenKey(hash string) string { return "token:" + hash }

// holderID returns the id holding a reservation (a pending invitation's
// slot, a token); ok is false when nobody holds it.
func (a *App) holderID(ctx context.Context, key string) (uuid.UUID, bool, error) {
	holder, ok, err := a.Store.Holder(ctx, key)
	if err != nil || !ok {
		return uuid.Nil, false, err
	}
	id, err := uuid.Parse(holder)
	return id, err == nil, nil
}

// tokenInvitation is what the token flows need of any kind of invitation
// (partner, colleague, accountant, collaborator).
type tokenInvitation interface {
	Apply(domain.Event)
	Link() (id uuid.UUID, tokenHash string)
}

// tokenKind says where one kind of token invitation is stored, and under
// which prefix it reserves one pending invitation per organization and
// email.
type tokenKind[P tokenInvitation] struct {
	fold    foldSpec[P]
	stream  func(id uuid.UUID) stream
	pending string
}

func newTokenKind[T any, P interface {
	*T
	tokenInvitation
}](fold string, streamID func(uuid.UUID) string, streamType, pending string) tokenKind[P] {
	return tokenKindOf(aggregateFold[T, P](fold), streamID, streamType, pending)
}

// tokenKindOf is newTokenKind for a kind whose fold reads more than the
// events' payloads.
func tokenKindOf[P tokenInvitation](fold foldSpec[P], streamID func(uuid.UUID) string, streamType, pending string) tokenKind[P] {
	return tokenKind[P]{fold: fold, pending: pending,
		stream: func(id uuid.UUID) stream { return stream{streamID(id), streamType} }}
}

// pendingKey is the reservation of an organization's pending invitation
// of the kind to an email.
func (k tokenKind[P]) pendingKey(org uuid.UUID, ref domain.PersonRef) string {
	return k.pending + ":" + org.String() + ":" + string(ref)
}

// byToken finds the invitation of kind k a link's token opens, through the
// token's reservation. A token that opens none (unknown, replaced by a
// resend, used, or another kind of link) is answered notFound.
func byToken[P tokenInvitation](ctx context.Context, a *App, k tokenKind[P], token string, notFound error) (loaded[P], error) {
	if !ValidTokenShape(token) {
		return loaded[P]{}, notFound
	}
	id, ok, err := a.holderID(ctx, TokenKey(HashToken(token)))
	if err != nil {
		return loaded[P]{}, err
	}
	if !ok {
		return loaded[P]{}, notFound
	}
	l, err := k.fold.load(ctx, a, k.stream(id))
	if err != nil {
		return loaded[P]{}, err
	}
	if id, hash := l.state.Link(); id == uuid.Nil || !TokenMatches(token, hash) {
		return loaded[P]{}, notFound
	}
	return l, nil
}

// sendWithToken is the one path of every invitation sent with a link's
// token. send names who is invited and by whom (Email, Locale, Actor); it
// fills in the rest of the domain's TokenSend: the email's person ref, and,
// on each attempt, the new invitation's id, its token's hash, the instant
// and the expiry's length. It decides on the inviting organization, given
// the invitation that holds the kind's pending slot for the email, if any,
// then appends the new invitation's stream with two reservations (that
// slot, taken over from an invitation no longer pending, and the token's
// hash), the token as the event's pending secret for the email. Another
// invitation winning the slot meanwhile is a lost race: decided again, and
// refused by the rule.
func sendWithToken[P tokenInvitation](ctx context.Context, a *App, org uuid.UUID, command string, k tokenKind[P], send domain.TokenSend,
	decide func(t *attempt, o *domain.Organization, s domain.TokenSend, pending P) ([]domain.Event, error),
) (inv P, token string, res eventstore.Result, err error) {
	send.EmailRef = a.Store.Keys().Ref(send.Email.String())
	pendingKey := k.pendingKey(org, send.EmailRef)
	res, err = a.run(ctx, send.Actor, command, func(t *attempt) error {
		o, err := t.org(ctx, org)
		if err != nil {
			return err
		}
		s := send
		s.InvitationID, s.Now, s.TTL = a.NewID(), a.Now(), a.ttl()
		var pending P
		var replace string
		if id, ok, err := a.holderID(ctx, pendingKey); err != nil {
			return err
		} else if ok {
			l, err := k.fold.load(ctx, a, k.stream(id))
			if err != nil {
				return err
			}
			pending, replace = l.state, id.String() // taken over once it is no longer pending
		}
		token, s.TokenHash = NewToken()
		evs, err := decide(t, o, s, pending)
		if err != nil {
			return err
		}
		t.add(k.stream(s.InvitationID), eventstore.NoStream, evs)
		inv = k.fold.empty()
		for _, e := range evs {
			inv.Apply(e)
		}
		holder := s.InvitationID.String()
		t.batch.Reserve = append(t.batch.Reserve, eventstore.Reservation{Key: pendingKey, Holder: holder, Replace: replace},
			eventstore.Reservation{Key: TokenKey(s.TokenHash), Holder: holder})
		t.secret = token
		return nil
	})
	return inv, token, res, err
}

// closing frees the pending slot and the token of an invitation that is
// answered or withdrawn.
func closing(t *attempt, pendingKey string, inv tokenInvitation) {
	id, hash := inv.Link()
	t.batch.Release = append(t.batch.Release, eventstore.Release{Key: pendingKey, Holder: id.String()},
		eventstore.Release{Key: TokenKey(hash), Holder: id.String()})
}

// InvitationOrganization is the organization that sent a partner
// invitation (false when there is no such invitation): the edge counts a
// resend against that organization's limits.
func (a *App) InvitationOrganization(ctx context.Context, id uuid.UUID) (uuid.UUID, bool, error) {
	l, err := invitations.fold.load(ctx, a, invitations.stream(id))
	if err != nil || !l.state.Exists() {
		return uuid.Nil, false, err
	}
	return l.state.InviterOrg, true, nil
}

// CollaboratorInvitationOrganization is the organization that created a
// collaborator account (false when there is no such invitation).
func (a *App) CollaboratorInvitationOrganization(ctx context.Context, id uuid.UUID) (uuid.UUID, bool, error) {
	l, err := collaborators.fold.load(ctx, a, collaborators.stream(id))
	if err != nil || !l.state.Exists() {
		return uuid.Nil, false, err
	}
	return l.state.OrganizationID, true, nil
}

// resendWithToken is the one path of a resend: the invitation gets a new
// token, whose reservation replaces the previous one's, so the old link
// opens nothing from then on; and its pending slot (slot names it) is
// taken again, since an expired invitation may have lost it to nobody.
// Another invitation pending to the same email meanwhile refuses the
// resend, naming that invitation.
func resendWithToken[P tokenInvitation](ctx context.Context, a *App, actor domain.Actor, command string, k tokenKind[P], id uuid.UUID,
	slot func(P) string, decide func(t *attempt, inv P, tokenHash string) ([]domain.Event, error)) (inv P, token string, res eventstore.Result, err error) {
	inv, res, err = update(ctx, a, actor, command, k.fold, k.stream(id), func(t *attempt, inv P) ([]domain.Event, error) {
		var hash string
		token, hash = NewToken()
		evs, err := decide(t, inv, hash)
		if err != nil {
			return nil, err
		}
		id, old := inv.Link()
		holder := id.String()
		t.batch.Release = append(t.batch.Release, eventstore.Release{Key: TokenKey(old), Holder: holder})
		t.batch.Reserve = append(t.batch.Reserve, eventstore.Reservation{Key: TokenKey(hash), Holder: holder},
			eventstore.Reservation{Key: slot(inv), Holder: holder})
		t.secret = token
		t.taken = func(taken *eventstore.ReservationError) error {
			return (&domain.Error{Code: domain.CodeDuplicatePending,
				Message: "Another invitation to this email is pending; this one cannot be resent."}).With("pending_invitation_id", taken.Holder)
		}
		return evs, nil
	})
	return inv, token, res, err
}

// linkPreview finds the invitation of kind k a link's token opens, for the
// link's landing page. A token that opens none answers what the partner
// invitation's preview answers, byte for byte: a landing page learns
// nothing from the kind of link it was given.
func linkPreview[P tokenInvitation](ctx context.Context, a *App, k tokenKind[P], token string) (P, error) {
	l, err := byToken(ctx, a, k, token, errInvitationLinkInvalid())
	return l.state, err
}
