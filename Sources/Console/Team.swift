import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

// Screen 7, the team: how much reviewers agree (the figures of `flywheel agreement`), how far end users'
// feedback can be trusted (`flywheel users`: flagged first, then the least trusted, with the reasons), and the
// feedback held because its user is flagged, which a reviewer or admin releases (r) into the review queue or
// discards (d). Reading needs no role; r and d need the release_held permission, checked here and again by the
// store. Held rows leave at once and come back if the write is refused, like decisions on screen 2.

/// The three panels of the team screen, in the order Tab visits them.
enum TeamPanel: CaseIterable, Equatable {
    case agreement, users, held
}

/// End users' trust rows and the samples held because of them, read together.
public struct EndUsersData: Sendable {
    var users: [EndUserTrustRow]
    var held: [HeldSample]
}

struct TeamScreenState {
    var agreement: AgreementReport?
    var loadingAgreement = false
    /// nil until loaded, and again once stale (another process committed while another screen was shown).
    var users: [EndUserTrustRow]?
    var held: [HeldSample]?
    var loadingUsers = false
    /// Asked for again while being read: read once more when the answer comes (it may predate a write).
    var agreementWanted = false
    var usersWanted = false
    /// The panel j/k act on; r and d always act on the held list.
    var panel: TeamPanel = .held
    var userSelected = 0
    var heldSelected = 0
    var agreementScroll = 0
    /// Held samples taken out of the list while their release or discard is written, with their position.
    var inFlight: [Int64: (item: HeldSample, index: Int)] = [:]

    var selectedHeld: HeldSample? {
        guard let held, held.indices.contains(heldSelected) else { return nil }
        return held[heldSelected]
    }
}

extension Console {
    /// Rows read into the end-user and held lists (flagged and least trusted first; held oldest first).
    static let teamListLimit = 500

    /// What screen 7 still needs: whatever is not loaded (or was made stale) and is not being read.
    static func loadTeamScreen(_ state: inout AppState) -> [Effect] {
        var effects: [Effect] = []
        if state.teamScreen.agreement == nil, !state.teamScreen.loadingAgreement {
            state.teamScreen.loadingAgreement = true
            effects.append(.loadAgreement)
        }
        if state.teamScreen.users == nil || state.teamScreen.held == nil, !state.teamScreen.loadingUsers {
            effects += reloadEndUsers(&state)
        }
        return effects
    }

    /// Reads the end users and the held list again; what is on screen stays until the answer comes. While a
    /// read is under way, one more follows it (that one may have started before the change being shown).
    static func reloadEndUsers(_ state: inout AppState) -> [Effect] {
        guard !state.teamScreen.loadingUsers else {
            state.teamScreen.usersWanted = true
            return []
        }
        state.teamScreen.loadingUsers = true
        return [.loadEndUsers(limit: teamListLimit)]
    }

    static func reloadAgreement(_ state: inout AppState) -> [Effect] {
        guard !state.teamScreen.loadingAgreement else {
            state.teamScreen.agreementWanted = true
            return []
        }
        state.teamScreen.loadingAgreement = true
        return [.loadAgreement]
    }

    /// C-r or another process's commit while screen 7 is shown: everything on it is read again.
    static func reloadTeamScreen(_ state: inout AppState) -> [Effect] {
        reloadAgreement(&state) + reloadEndUsers(&state)
    }

    /// Another process committed while another screen is shown: screen 7 is read again when next shown.
    static func markTeamScreenStale(_ state: inout AppState) {
        // A read under way may predate the commit: it is followed by another.
        if state.teamScreen.loadingAgreement { state.teamScreen.agreementWanted = true } else { state.teamScreen.agreement = nil }
        if state.teamScreen.loadingUsers { state.teamScreen.usersWanted = true } else { state.teamScreen.users = nil; state.teamScreen.held = nil }
    }

    static func performTeam(_ state: inout AppState, _ action: Action) -> [Effect] {
        let panels = TeamPanel.allCases
        switch action {
        case .focusNext, .focusPrevious:
            let i = panels.firstIndex(of: state.teamScreen.panel)!
            state.teamScreen.panel = panels[(i + (action == .focusNext ? 1 : panels.count - 1)) % panels.count]
        case .down, .up, .pageDown, .pageUp, .top:
            let page = max(1, teamPanelRows(state, state.teamScreen.panel) - 1)
            let delta: Int
            switch action {
            case .down: delta = 1
            case .up: delta = -1
            case .pageDown: delta = page
            case .pageUp: delta = -page
            default: delta = 0
            }
            moveTeam(&state, by: delta, toTop: action == .top)
        case .releaseHeld, .discardHeld:
            guard let item = state.teamScreen.selectedHeld else {
                state.status = StatusLine(text: state.teamScreen.held == nil ? "the held feedback is still loading" : "nothing is held", isError: false)
                return []
            }
            let index = state.teamScreen.heldSelected
            state.teamScreen.held?.remove(at: index)
            state.teamScreen.inFlight[item.sample.id] = (item, index)
            clampTeamSelection(&state)
            let release = action == .releaseHeld
            state.status = StatusLine(text: "\(release ? "releasing" : "discarding") sample \(item.sample.id)…", isError: false)
            return [.decideHeld(sampleID: item.sample.id, release: release, by: state.reviewer)]
        default:
            break
        }
        return []
    }

    static func moveTeam(_ state: inout AppState, by delta: Int, toTop: Bool) {
        switch state.teamScreen.panel {
        case .agreement:
            scrollAgreement(&state, to: toTop ? 0 : state.teamScreen.agreementScroll + delta)
        case .users:
            let n = state.teamScreen.users?.count ?? 0
            state.teamScreen.userSelected = toTop ? 0 : min(max(0, state.teamScreen.userSelected + delta), max(0, n - 1))
        case .held:
            let n = state.teamScreen.held?.count ?? 0
            state.teamScreen.heldSelected = toTop ? 0 : min(max(0, state.teamScreen.heldSelected + delta), max(0, n - 1))
        }
    }

    static func clampTeamSelection(_ state: inout AppState) {
        state.teamScreen.heldSelected = min(state.teamScreen.heldSelected, max(0, (state.teamScreen.held?.count ?? 0) - 1))
        state.teamScreen.userSelected = min(state.teamScreen.userSelected, max(0, (state.teamScreen.users?.count ?? 0) - 1))
    }

    /// The status after a held sample was released or discarded.
    static func heldMessage(_ id: Int64, release: Bool) -> String {
        release ? "sample \(id) released to the review queue" : "sample \(id) discarded"
    }

    static func handleTeamScreenResult(_ state: inout AppState, _ message: Message) -> [Effect] {
        switch message {
        case .agreement(let result):
            state.teamScreen.loadingAgreement = false
            switch result {
            case .success(let report):
                state.teamScreen.agreement = report
                // The same lines may be fewer now: keep the scroll inside them.
                scrollAgreement(&state, to: state.teamScreen.agreementScroll)
            case .failure(let e): state.status = StatusLine(text: "cannot load the agreement figures: \(e)", isError: true)
            }
            if state.teamScreen.agreementWanted {
                state.teamScreen.agreementWanted = false
                return reloadAgreement(&state)
            }
        case .endUsers(let result):
            state.teamScreen.loadingUsers = false
            switch result {
            case .success(var data):
                // The selection stays on the same user and sample when they are still there.
                let user = state.teamScreen.users.flatMap { $0.indices.contains(state.teamScreen.userSelected) ? $0[state.teamScreen.userSelected].user : nil }
                let sample = state.teamScreen.selectedHeld?.sample.id
                data.held.removeAll { state.teamScreen.inFlight[$0.sample.id] != nil }
                state.teamScreen.users = data.users
                state.teamScreen.held = data.held
                if let user, let i = data.users.firstIndex(where: { $0.user == user }) { state.teamScreen.userSelected = i }
                if let sample, let i = data.held.firstIndex(where: { $0.sample.id == sample }) { state.teamScreen.heldSelected = i }
                clampTeamSelection(&state)
            case .failure(let e): state.status = StatusLine(text: "cannot load end users and held feedback: \(e)", isError: true)
            }
            if state.teamScreen.usersWanted {
                state.teamScreen.usersWanted = false
                return reloadEndUsers(&state)
            }
        case .heldDecided(let id, let release, let result):
            let taken = state.teamScreen.inFlight.removeValue(forKey: id)
            switch result {
            case .success:
                state.status = StatusLine(text: heldMessage(id, release: release), isError: false)
                // A released sample joins the review queue: screen 2 reads it again when shown.
                if release, state.screen != .review { state.review.queue.invalidate() }
                // The users' held counts changed, and the queue's count.
                return [.loadQueueCount] + reloadEndUsers(&state)
            case .failure(let e):
                switch e {
                case HoldError.notHeld, ReviewError.sampleNotFound:
                    // Someone else released or discarded it first: it is no longer held, so it stays out.
                    state.status = StatusLine(text: "\(e)", isError: true)
                    return reloadEndUsers(&state)
                default:
                    // Refused (the role changed meanwhile) or not written: the row comes back, selected.
                    if let taken, state.teamScreen.held != nil {
                        let at = min(taken.index, state.teamScreen.held!.count)
                        state.teamScreen.held!.insert(taken.item, at: at)
                        state.teamScreen.heldSelected = at
                    }
                    state.status = StatusLine(text: e is PermissionError || e is HoldError ? "\(e)" : "sample \(id) not saved: \(e)", isError: true)
                }
            }
        default:
            break
        }
        return []
    }

    /// Scrolls the agreement panel, never past its last line.
    static func scrollAgreement(_ state: inout AppState, to value: Int) {
        let room = teamPanelRows(state, .agreement)
        let total = agreementLines(state, width: teamLayout(state).agreement.width - 3).count
        state.teamScreen.agreementScroll = min(max(0, value), max(0, total - room))
    }
}
