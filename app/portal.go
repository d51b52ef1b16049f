package app

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// The client portal (seed 001): portal users, contracts shown to them, and
// the process manager that withdraws a watcher's access when companies stop
// matching.

// portalUserKey reserves one portal user per organization and email.
func portalUserKey(org uuid.UUID, ref domain.PersonRef) string {
	return "portal-user:" + org.String() + ":" + string(ref)
}

// PortalUserChange is a portal user as a command leaves it.
type PortalUserChange struct {
	PortalUser *domain.PortalUser
	CreatedAt  time.Time
	Result     eventstore.Result
}

// portalUserState is a portal user with when it was created.
type portalUserState struct {
	user    *domain.PortalUser
	created time.Time
}

var portalUserFold = foldSpec[*portalUserState]{
	kind:  "portal-user",
	empty: func() *portalUserState { return &portalUserState{user: &domain.PortalUser{}} },
	apply: func(st *portalUserState, e eventstore.Event) {
		st.user.Apply(e.Data)
		if st.created.IsZero() {
			st.created = e.RecordedAt
		}
	},
	clone: func(st *portalUserState) *portalUserState {
		u := *st.user
		return &portalUserState{user: &u, created: st.created}
	},
}

func portalUserStream(id uuid.UUID) stream {
	return stream{domain.PortalUserStream(id), domain.PortalUserStreamType}
}

// loadPortalUsers loads the portal users named that into does not hold yet.
func (a *App) loadPortalUsers(ctx context.Context, into map[uuid.UUID]*domain.PortalUser, ids ...uuid.UUID) error {
	for _, id := range ids {
		if _, ok := into[id]; ok || id == uuid.Nil {
			continue
		}
		l, err := portalUserFold.load(ctx, a, portalUserStream(id))
		if err != nil {
			return err
		}
		into[id] = l.state.user
	}
	return nil
}

// CreatePortalUser adds a client contact to an organization's portal. An
// organization has one portal user per email: the reservation holds that
// under concurrency, and the refusal names the existing one.
func (a *App) CreatePortalUser(ctx context.Context, actor domain.Actor, org uuid.UUID, email domain.Email, name, company string) (PortalUserChange, error) {
	ref := a.Store.Keys().Ref(email.String())
	cmd := domain.CreatePortalUser{PortalUserID: a.NewID(), Email: email, EmailRef: ref, Name: name, Company: company, Actor: actor}
	p := &domain.PortalUser{}
	res, err := a.run(ctx, actor, "CreatePortalUser", func(t *attempt) error {
		o, err := t.org(ctx, org)
		if err != nil {
			return err
		}
		evs, err := domain.DecideCreatePortalUser(o, &domain.PortalUser{}, cmd)
		if err != nil {
			return err
		}
		t.add(portalUserStream(cmd.PortalUserID), eventstore.NoStream, evs)
		t.batch.Reserve = []eventstore.Reservation{{Key: portalUserKey(org, ref), Holder: cmd.PortalUserID.String()}}
		t.taken = func(taken *eventstore.ReservationError) error { return domain.ErrPortalUserExists(taken.Holder) }
		t.stored = append(t.stored, func(eventstore.Result) {
			for _, e := range evs {
				p.Apply(e)
			}
		})
		return nil
	})
	if err != nil {
		return PortalUserChange{}, err
	}
	return PortalUserChange{PortalUser: p, CreatedAt: res.RecordedAt.UTC().Truncate(time.Microsecond), Result: res}, nil
}

// UpdatePortalUser changes a portal user's name, company, or both (nil
// leaves a field as it is). A company change reaches the watchers through
// the process manager (ReactToPortalChange).
func (a *App) UpdatePortalUser(ctx context.Context, actor domain.Actor, org, id uuid.UUID, name, company *string) (PortalUserChange, error) {
	st, res, err := update(ctx, a, actor, "UpdatePortalUser", portalUserFold, portalUserStream(id),
		func(t *attempt, st *portalUserState) ([]domain.Event, error) {
			o, err := t.org(ctx, org)
			if err != nil {
				return nil, err
			}
			return domain.DecideUpdatePortalUser(o, st.user, domain.UpdatePortalUser{Name: name, Company: company, Actor: actor})
		})
	if err != nil {
		return PortalUserChange{}, err
	}
	return PortalUserChange{PortalUser: st.user, CreatedAt: st.created.UTC().Truncate(time.Microsecond), Result: res}, nil
}

// contractShareState is a contract's share with when the contract was
// last shown in the portal.
type contractShareState struct {
	share    *domain.ContractShare
	sharedAt time.Time
}

var contractShareFold = foldSpec[*contractShareState]{
	kind:  "contract-share",
	empty: func() *contractShareState { return &contractShareState{share: &domain.ContractShare{}} },
	apply: func(st *contractShareState, e eventstore.Event) {
		st.share.Apply(e.Data)
		if _, ok := e.Data.(domain.ContractShown); ok {
			st.sharedAt = e.RecordedAt
		}
	},
	clone: func(st *contractShareState) *contractShareState {
		return &contractShareState{share: st.share.Clone(), sharedAt: st.sharedAt}
	},
}

// loadContractShare rebuilds a contract's portal share from its stream.
func (a *App) loadContractShare(ctx context.Context, org uuid.UUID, contract domain.ContractID) (loaded[*contractShareState], error) {
	l, err := contractShareFold.load(ctx, a, stream{domain.ContractShareStream(org, contract), domain.ContractShareStreamType})
	if err == nil {
		l.state.share.OrganizationID, l.state.share.ContractID = org, contract // the stream's, shown or not
	}
	return l, err
}

// SharedContract is a contract's portal access as a command leaves it.
type SharedContract struct {
	Share *domain.ContractShare
	// PortalUsers holds the current state of the requester and every
	// watcher.
	PortalUsers map[uuid.UUID]*domain.PortalUser
	// SharedAt is when the contract was last shown in the portal.
	SharedAt time.Time
	// Created is true when the command showed a contract the portal did not
	// show.
	Created bool
	Result  eventstore.Result
}

// shareDecision decides a command on a contract's share, given the
// organization and the share's current state; it may fill users with the
// portal users it loaded.
type shareDecision func(o *domain.Organization, s *domain.ContractShare, users map[uuid.UUID]*domain.PortalUser) ([]domain.Event, error)

// changeShare loads, decides and appends one command on a contract's
// share, deciding again when another command changed it meanwhile. A
// command that changes nothing answers with the stream's last position.
func (a *App) changeShare(ctx context.Context, actor domain.Actor, org uuid.UUID, contract domain.ContractID, command string, decide shareDecision) (SharedContract, error) {
	var out SharedContract
	var st *contractShareState
	res, err := a.run(ctx, actor, command, func(t *attempt) error {
		o, err := t.org(ctx, org)
		if err != nil {
			return err
		}
		// Refuse outsiders before loading anything they named.
		if err := o.Require(actor, domain.ActionPortalManage); err != nil {
			return err
		}
		l, err := a.loadContractShare(ctx, org, contract)
		if err != nil {
			return err
		}
		st = l.state
		users := map[uuid.UUID]*domain.PortalUser{}
		evs, err := decide(o, st.share, users)
		if err != nil {
			return err
		}
		wasShown := st.share.Shown
		out = SharedContract{Share: st.share, PortalUsers: users}
		l.append(t, evs)
		t.stored = append(t.stored, func(eventstore.Result) { out.Created = !wasShown && st.share.Shown })
		return nil
	})
	if err != nil {
		return SharedContract{}, err
	}
	out.Result, out.SharedAt = res, st.sharedAt.UTC().Truncate(time.Microsecond)
	if out.Share.Shown {
		if err := a.loadPortalUsers(ctx, out.PortalUsers, append([]uuid.UUID{out.Share.RequesterID}, out.Share.Watchers...)...); err != nil {
			return SharedContract{}, err
		}
	}
	return out, nil
}

// ShowContractInput is what showing a contract in the portal takes.
type ShowContractInput struct {
	ContractID         domain.ContractID
	Title              string
	RequesterID        uuid.UUID
	WatcherIDs         []uuid.UUID
	AttachmentsVisible bool
	Locale             string
}

// ShowContract shows a contract in the portal, or replaces its title,
// requester, watchers and attachments switch when it is shown already.
func (a *App) ShowContract(ctx context.Context, actor domain.Actor, org uuid.UUID, in ShowContractInput) (SharedContract, error) {
	return a.changeShare(ctx, actor, org, in.ContractID, "ShowContractInPortal",
		func(o *domain.Organization, s *domain.ContractShare, users map[uuid.UUID]*domain.PortalUser) ([]domain.Event, error) {
			if err := a.loadPortalUsers(ctx, users, append([]uuid.UUID{in.RequesterID}, in.WatcherIDs...)...); err != nil {
				return nil, err
			}
			return domain.DecideShowContract(o, s, domain.ShowContract{ContractID: in.ContractID, Title: in.Title,
				RequesterID: in.RequesterID, WatcherIDs: in.WatcherIDs, AttachmentsVisible: in.AttachmentsVisible,
				Locale: in.Locale, PortalUsers: users, Actor: actor})
		})
}

// ShareContractWithWatcher gives one more portal user of the requester's
// company access to a shown contract. Adding a watcher twice is harmless.
func (a *App) ShareContractWithWatcher(ctx context.Context, actor domain.Actor, org uuid.UUID, contract domain.ContractID, watcher uuid.UUID, locale string) (SharedContract, error) {
	return a.changeShare(ctx, actor, org, contract, "ShareContractWithWatcher",
		func(o *domain.Organization, s *domain.ContractShare, users map[uuid.UUID]*domain.PortalUser) ([]domain.Event, error) {
			if err := a.loadPortalUsers(ctx, users, watcher, s.RequesterID); err != nil {
				return nil, err
			}
			return domain.DecideShareContractWithWatcher(o, s, domain.ShareContractWithWatcher{
				Watcher: users[watcher], Requester: users[s.RequesterID], Locale: locale, Actor: actor})
		})
}

// RemoveWatcher takes a watcher's access to a contract away.
func (a *App) RemoveWatcher(ctx context.Context, actor domain.Actor, org uuid.UUID, contract domain.ContractID, watcher uuid.UUID) (SharedContract, error) {
	return a.changeShare(ctx, actor, org, contract, "RemoveWatcher",
		func(o *domain.Organization, s *domain.ContractShare, users map[uuid.UUID]*domain.PortalUser) ([]domain.Event, error) {
			if err := a.loadPortalUsers(ctx, users, watcher); err != nil {
				return nil, err
			}
			return domain.DecideRemoveWatcher(o, s, domain.RemoveWatcher{Watcher: users[watcher], Actor: actor})
		})
}

// SetAttachmentsVisible turns the switch that shows every attachment of a
// contract in the portal on or off.
func (a *App) SetAttachmentsVisible(ctx context.Context, actor domain.Actor, org uuid.UUID, contract domain.ContractID, visible bool) (SharedContract, error) {
	return a.changeShare(ctx, actor, org, contract, "SetAttachmentsVisible",
		func(o *domain.Organization, s *domain.ContractShare, _ map[uuid.UUID]*domain.PortalUser) ([]domain.Event, error) {
			return domain.DecideSetAttachmentsVisible(o, s, domain.SetAttachmentsVisible{Visible: visible, Actor: actor})
		})
}

// WithdrawContract withdraws a contract from the portal.
func (a *App) WithdrawContract(ctx context.Context, actor domain.Actor, org uuid.UUID, contract domain.ContractID) (SharedContract, error) {
	return a.changeShare(ctx, actor, org, contract, "WithdrawContractFromPortal",
		func(o *domain.Organization, s *domain.ContractShare, _ map[uuid.UUID]*domain.PortalUser) ([]domain.Event, error) {
			return domain.DecideWithdrawContract(o, s, domain.WithdrawContract{Actor: actor})
		})
}

// =============================================================================
// The company-change process manager

// PortalConsumerGroup is the Watermill consumer group of ReactToPortalChange.
const PortalConsumerGroup = "portal-company-check"

// portalProcess is who the process manager's events say acted.
var portalProcess = domain.Actor{UserID: "process:" + PortalConsumerGroup}

// portalEventIDs makes the process manager's event ids deterministic: the
// same cause, contract state and watcher give the same id, so an append
// repeated by a redelivery is recognized as already stored.
var portalEventIDs = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://partners.dev/process/"+PortalConsumerGroup))

// ReactToPortalChange is the process manager that keeps every watcher in
// their requester's company (DOMAIN.md section 2, rule 6). It is a
// Watermill reaction (consumer group PortalConsumerGroup) fed with every
// event, in the log's order:
//
//   - on a company change, it withdraws, by a WatcherAccessWithdrawn that
//     names the reason, every watcher who no longer matches the requester's
//     company, on each contract the portal user is requester or watcher of;
//   - on a share (ContractShown, RequesterChanged, WatcherAdded), it checks
//     that contract the same way: a share decided just before a company
//     change committed is ordered after that change in the log, so it is
//     this check, not the change's, that sees both.
//
// Each check decides on the current state of the contract and of the
// portal users, and appends in a transaction of its own, guarded by the
// contract's version (a lost race is decided again) and with deterministic
// event ids (a redelivery appends nothing). To know which contracts a
// portal user has, it keeps its own lookup (portal_access_lookup), written
// in tx, the transaction that acknowledges the event: it always holds every
// share the log orders before the event being handled, which a read model
// fed by another reader would not promise.
func (a *App) ReactToPortalChange(ctx context.Context, tx *sql.Tx, ev *eventstore.Event) error {
	switch e := ev.Data.(type) {
	case domain.PortalUserCompanyChanged:
		contracts, err := lookupContracts(ctx, tx, e.OrganizationID, e.PortalUserID)
		if err != nil {
			return err
		}
		for _, c := range contracts {
			if err := a.withdrawMismatchedWatchers(ctx, ev, e.OrganizationID, c); err != nil {
				return err
			}
		}
	case domain.ContractShown:
		ids := []uuid.UUID{e.Requester.PortalUserID}
		for _, w := range e.Watchers {
			ids = append(ids, w.PortalUserID)
		}
		if err := lookupAdd(ctx, tx, e.OrganizationID, e.ContractID, ids...); err != nil {
			return err
		}
		return a.withdrawMismatchedWatchers(ctx, ev, e.OrganizationID, e.ContractID)
	case domain.RequesterChanged:
		if err := lookupRemove(ctx, tx, e.OrganizationID, e.ContractID, e.PreviousRequesterID); err != nil {
			return err
		}
		if err := lookupAdd(ctx, tx, e.OrganizationID, e.ContractID, e.Requester.PortalUserID); err != nil {
			return err
		}
		return a.withdrawMismatchedWatchers(ctx, ev, e.OrganizationID, e.ContractID)
	case domain.WatcherAdded:
		if err := lookupAdd(ctx, tx, e.OrganizationID, e.ContractID, e.Watcher.PortalUserID); err != nil {
			return err
		}
		return a.withdrawMismatchedWatchers(ctx, ev, e.OrganizationID, e.ContractID)
	case domain.WatcherRemoved:
		return lookupRemove(ctx, tx, e.OrganizationID, e.ContractID, e.PortalUserID)
	case domain.WatcherAccessWithdrawn:
		return lookupRemove(ctx, tx, e.OrganizationID, e.ContractID, e.PortalUserID)
	case domain.ContractWithdrawn:
		return lookupRemove(ctx, tx, e.OrganizationID, e.ContractID)
	}
	return nil
}

// withdrawMismatchedWatchers checks one contract's watchers against their
// requester's company, on the current state, and withdraws those who no
// longer match; cause is the event that asked for the check.
func (a *App) withdrawMismatchedWatchers(ctx context.Context, cause *eventstore.Event, org uuid.UUID, contract domain.ContractID) error {
	_, err := a.run(ctx, portalProcess, "WithdrawMismatchedWatchers", func(t *attempt) error {
		l, err := a.loadContractShare(ctx, org, contract)
		if err != nil {
			return err
		}
		share := l.state.share
		if !share.Shown || len(share.Watchers) == 0 {
			return nil
		}
		users := map[uuid.UUID]*domain.PortalUser{}
		if err := a.loadPortalUsers(ctx, users, append([]uuid.UUID{share.RequesterID}, share.Watchers...)...); err != nil {
			return err
		}
		evs := domain.DecideWithdrawMismatchedWatchers(share, domain.WithdrawMismatchedWatchers{PortalUsers: users})
		if len(evs) == 0 {
			return nil
		}
		// Ids of the cause, the state decided on and the watcher: a
		// redelivery appends nothing.
		news := make([]eventstore.NewEvent, len(evs))
		for i, e := range evs {
			w := e.(domain.WatcherAccessWithdrawn).PortalUserID
			news[i] = eventstore.NewEvent{Data: e, ID: uuid.NewSHA1(portalEventIDs,
				[]byte(fmt.Sprintf("%s|%s|%d|%s", cause.EventID, l.stream.id, share.Version, w)))}
		}
		t.batch.Meta.CausationID = cause.EventID.String()
		if t.batch.Meta.CorrelationID == "" {
			t.batch.Meta.CorrelationID = cause.Meta.CorrelationID
		}
		t.batch.Streams = append(t.batch.Streams, eventstore.StreamAppend{StreamID: l.stream.id, StreamType: l.stream.typ,
			Expected: eventstore.Exactly(share.Version), Events: news})
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: check watchers of contract %s after event %s: %w", PortalConsumerGroup, contract, cause.EventID, err)
	}
	return nil
}

// The process manager's lookup. These three statements are its whole state
// and the only SQL of this package beyond the event store's API: a small
// index of the events it has seen, not a read model (see
// ReactToPortalChange for why it cannot be one).

func lookupAdd(ctx context.Context, tx *sql.Tx, org uuid.UUID, contract domain.ContractID, users ...uuid.UUID) error {
	for _, u := range users {
		if _, err := tx.ExecContext(ctx, `INSERT INTO portal_access_lookup (organization_id, portal_user_id, contract_id)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, org, u, contract.String()); err != nil {
			return fmt.Errorf("%s: lookup: %w", PortalConsumerGroup, err)
		}
	}
	return nil
}

// lookupRemove forgets one portal user's access to a contract, or, with no
// portal user named, everyone's.
func lookupRemove(ctx context.Context, tx *sql.Tx, org uuid.UUID, contract domain.ContractID, users ...uuid.UUID) error {
	var err error
	if len(users) == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM portal_access_lookup WHERE organization_id = $1 AND contract_id = $2`, org, contract.String())
	}
	for _, u := range users {
		if err != nil {
			break
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM portal_access_lookup WHERE organization_id = $1 AND contract_id = $2 AND portal_user_id = $3`,
			org, contract.String(), u)
	}
	if err != nil {
		return fmt.Errorf("%s: lookup: %w", PortalConsumerGroup, err)
	}
	return nil
}

func lookupContracts(ctx context.Context, tx *sql.Tx, org, user uuid.UUID) ([]domain.ContractID, error) {
	rows, err := tx.QueryContext(ctx, `SELECT contract_id FROM portal_access_lookup WHERE organization_id = $1 AND portal_user_id = $2
		ORDER BY contract_id`, org, user)
	if err != nil {
		return nil, fmt.Errorf("%s: lookup: %w", PortalConsumerGroup, err)
	}
	defer rows.Close()
	var out []domain.ContractID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		c, err := domain.ParseContractID(s)
		if err != nil {
			return nil, fmt.Errorf("%s: lookup holds contract id %q: %w", PortalConsumerGroup, s, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
