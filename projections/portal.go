package projections

import (
	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// portalProjections are the read models of the client portal.
var portalProjections = []Projection{PortalUsers{}, PortalAccess{}}

// A portal user's email and name are theirs: forgetting them scrubs both.
// The access read model holds ids only.
func init() {
	personalColumns[PortalUsers{}.Name()] = []PersonalColumn{
		{Table: "rm_portal_users", Value: "email", Ref: "email_ref"},
		{Table: "rm_portal_users", Value: "name", Ref: "email_ref"},
	}
}

// PortalUsers is "Settings → Client portal → Manage clients": each
// organization's portal users, with their company as typed and as the
// same-company rule compares it.
type PortalUsers struct{}

func (PortalUsers) Name() string     { return "portal_users" }
func (PortalUsers) Tables() []string { return []string{"rm_portal_users"} }

func (PortalUsers) EventTypes() []string {
	return []string{"PortalUserCreated", "PortalUserRenamed", "PortalUserCompanyChanged"}
}
func (PortalUsers) Apply(w *Writer, ev *eventstore.Event) {
	v := ev.StreamVersion
	switch e := ev.Data.(type) {
	case domain.PortalUserCreated:
		w.Exec(`INSERT INTO rm_portal_users (id, organization_id, email, email_ref, name, company, company_key, created_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			e.PortalUserID, e.OrganizationID, e.Email.Value, string(e.EmailRef), e.Name.Value, e.Company,
			domain.NormalizeCompany(e.Company), ev.RecordedAt, v)
	case domain.PortalUserRenamed:
		w.Exec(`UPDATE rm_portal_users SET name = $2, version = $3 WHERE id = $1 AND version < $3`, e.PortalUserID, e.Name.Value, v)
	case domain.PortalUserCompanyChanged:
		w.Exec(`UPDATE rm_portal_users SET company = $2, company_key = $3, version = $4 WHERE id = $1 AND version < $4`,
			e.PortalUserID, e.Company, domain.NormalizeCompany(e.Company), v)
	}
}

// PortalAccess is who sees which contract in the portal: each shown
// contract (title, requester, switch, when it was shared) and one access
// row per requester and watcher, read by contract (its portal access) and
// by portal user (their Contracts page).
//
// Every event of a contract's stream bumps the contract row's version, and
// every access statement runs only while that version is below the event's
// (accessGuard), before the bump: an event applied a second time, or an
// older one applied after a newer one, changes nothing.
type PortalAccess struct{}

func (PortalAccess) Name() string     { return "portal_access" }
func (PortalAccess) Tables() []string { return []string{"rm_portal_contracts", "rm_portal_access"} }

func (PortalAccess) EventTypes() []string {
	return []string{"ContractShown", "ContractRetitled", "RequesterChanged", "WatcherAdded", "WatcherRemoved", "WatcherAccessWithdrawn", "AttachmentsVisibilityChanged", "ContractWithdrawn"}
}

// accessGuard holds while the contract ($1, $2) has not applied version $3.
const accessGuard = `NOT EXISTS (SELECT 1 FROM rm_portal_contracts c
	WHERE c.organization_id = $1::uuid AND c.contract_id = $2::text AND c.version >= $3::integer)`

func (PortalAccess) Apply(w *Writer, ev *eventstore.Event) {
	v, pos := ev.StreamVersion, ev.Position
	switch e := ev.Data.(type) {
	case domain.ContractShown:
		org, cid := e.OrganizationID, e.ContractID.String()
		ids := []uuid.UUID{e.Requester.PortalUserID}
		roles := []string{domain.PortalRoleRequester}
		for _, wt := range e.Watchers {
			ids = append(ids, wt.PortalUserID)
			roles = append(roles, domain.PortalRoleWatcher)
		}
		w.Exec(`DELETE FROM rm_portal_access WHERE organization_id = $1 AND contract_id = $2 AND `+accessGuard, org, cid, v)
		w.Exec(`INSERT INTO rm_portal_access (organization_id, contract_id, portal_user_id, role, position, ord)
			SELECT $1::uuid, $2::text, u.id, u.role, $4::bigint, u.ord - 1
			  FROM unnest($5::uuid[], $6::text[]) WITH ORDINALITY AS u(id, role, ord)
			 WHERE `+accessGuard+` ON CONFLICT DO NOTHING`, org, cid, v, pos, ids, roles)
		w.Exec(`INSERT INTO rm_portal_contracts (organization_id, contract_id, title, requester_id, attachments_visible, shown, shared_at, version)
			VALUES ($1, $2, $3, $4, $5, true, $6, $7)
			ON CONFLICT (organization_id, contract_id) DO UPDATE SET title = excluded.title, requester_id = excluded.requester_id,
				attachments_visible = excluded.attachments_visible, shown = true, shared_at = excluded.shared_at, version = excluded.version
			WHERE rm_portal_contracts.version < excluded.version`,
			org, cid, e.Title, e.Requester.PortalUserID, e.AttachmentsVisible, ev.RecordedAt, v)
	case domain.ContractRetitled:
		w.Exec(`UPDATE rm_portal_contracts SET title = $4, version = $3
			WHERE organization_id = $1 AND contract_id = $2 AND version < $3`, e.OrganizationID, e.ContractID.String(), v, e.Title)
	case domain.RequesterChanged:
		org, cid := e.OrganizationID, e.ContractID.String()
		w.Exec(`DELETE FROM rm_portal_access WHERE organization_id = $1 AND contract_id = $2 AND role = 'requester' AND `+accessGuard, org, cid, v)
		w.Exec(`INSERT INTO rm_portal_access (organization_id, contract_id, portal_user_id, role, position, ord)
			SELECT $1::uuid, $2::text, $4::uuid, 'requester', $5::bigint, 0 WHERE `+accessGuard+`
			ON CONFLICT (organization_id, contract_id, portal_user_id) DO UPDATE SET role = 'requester', position = excluded.position, ord = 0`,
			org, cid, v, e.Requester.PortalUserID, pos)
		w.Exec(`UPDATE rm_portal_contracts SET requester_id = $4, version = $3
			WHERE organization_id = $1 AND contract_id = $2 AND version < $3`, org, cid, v, e.Requester.PortalUserID)
	case domain.WatcherAdded:
		org, cid := e.OrganizationID, e.ContractID.String()
		w.Exec(`INSERT INTO rm_portal_access (organization_id, contract_id, portal_user_id, role, position, ord)
			SELECT $1::uuid, $2::text, $4::uuid, 'watcher', $5::bigint, 0 WHERE `+accessGuard+` ON CONFLICT DO NOTHING`,
			org, cid, v, e.Watcher.PortalUserID, pos)
		bumpContract(w, org, cid, v)
	case domain.WatcherRemoved:
		removeWatcher(w, e.OrganizationID, e.ContractID.String(), v, e.PortalUserID)
	case domain.WatcherAccessWithdrawn:
		removeWatcher(w, e.OrganizationID, e.ContractID.String(), v, e.PortalUserID)
	case domain.AttachmentsVisibilityChanged:
		w.Exec(`UPDATE rm_portal_contracts SET attachments_visible = $4, version = $3
			WHERE organization_id = $1 AND contract_id = $2 AND version < $3`, e.OrganizationID, e.ContractID.String(), v, e.AttachmentsVisible)
	case domain.ContractWithdrawn:
		org, cid := e.OrganizationID, e.ContractID.String()
		w.Exec(`DELETE FROM rm_portal_access WHERE organization_id = $1 AND contract_id = $2 AND `+accessGuard, org, cid, v)
		w.Exec(`UPDATE rm_portal_contracts SET shown = false, version = $3
			WHERE organization_id = $1 AND contract_id = $2 AND version < $3`, org, cid, v)
	}
}

func removeWatcher(w *Writer, org uuid.UUID, cid string, v int, id uuid.UUID) {
	w.Exec(`DELETE FROM rm_portal_access WHERE organization_id = $1 AND contract_id = $2 AND portal_user_id = $4
		AND role = 'watcher' AND `+accessGuard, org, cid, v, id)
	bumpContract(w, org, cid, v)
}

func bumpContract(w *Writer, org uuid.UUID, cid string, v int) {
	w.Exec(`UPDATE rm_portal_contracts SET version = $3 WHERE organization_id = $1 AND contract_id = $2 AND version < $3`, org, cid, v)
}
