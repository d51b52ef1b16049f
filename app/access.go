package app

import (
	"context"

	"github.com/google/uuid"

	"partners/domain"
)

// Who may read an organization is answered from its events, as this
// replica folds them, never from a read model: the members read model may
// lag behind a revocation the organization already acknowledged (a slow or
// failing projector), and a revoked accountant must read nothing from then
// on. A fold reads its stream's tail on every load, so it is never behind
// an acknowledged append, on any replica.

// GrantOf is a user's standing in an organization as its events say now;
// zero when they are not a member (or there is no such organization).
func (a *App) GrantOf(ctx context.Context, org uuid.UUID, userID string) (domain.Grant, error) {
	st, err := a.loadOrganizationState(ctx, org)
	if err != nil {
		return domain.Grant{}, err
	}
	return st.Org.GrantOf(userID), nil
}

// Enter is an authenticated request reaching an organization without a
// command (a query, a page): the actor's standing there, as GrantOf reads
// it. A member whose token now carries another verified email than the
// recorded one has the change recorded first, once, as every command that
// loads the organization does (see attempt.organization): the fold shows
// the new email after it, so later requests append nothing.
func (a *App) Enter(ctx context.Context, actor domain.Actor, org uuid.UUID) (domain.Grant, error) {
	var o *domain.Organization
	_, err := a.run(ctx, actor, "RecordMemberEmail", func(t *attempt) error {
		var err error
		o, err = t.org(ctx, org)
		return err
	})
	if err != nil {
		return domain.Grant{}, err
	}
	return o.GrantOf(actor.UserID), nil
}
