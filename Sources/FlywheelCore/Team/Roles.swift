import Foundation

// Who may do what. One table (`TeamAction.allowedRoles`) answers every permission question, so the console,
// the CLI and the store refuse the same things with the same message.

/// A team member's role. Ordered from the narrowest to the widest set of permissions.
public enum TeamRole: String, Sendable, CaseIterable, Codable {
    case annotator, reviewer, pm, admin
}

/// Everything a role check guards. Reading (lists, screens, agreement, audit, users) needs only a known user;
/// ingest, analysis and collection are machine work and are not guarded.
public enum TeamAction: String, Sendable, CaseIterable {
    /// Label a cold-start annotation task, or skip one.
    case annotate
    /// Approve, reject, fix or recategorise a sample, fix its tags, undo one's own decision.
    case review
    /// Decide a sample whose independent reviews disagreed.
    case adjudicate
    /// Release or discard end-user feedback held because its user was flagged.
    case releaseHeld = "release_held"
    /// Clear (or set) an end user's abuse flag by hand.
    case moderateUsers = "moderate_users"
    /// Add or activate prompt versions, record A/B decisions.
    case managePrompts = "manage_prompts"
    /// Ask the LLM for an improved prompt.
    case optimize
    /// Write training data out.
    case export
    /// Make synthetic samples (paraphrases) from approved ones.
    case augment
    /// Queue images and turns for annotation.
    case queueAnnotation = "queue_annotation"
    /// Add users and change roles.
    case manageUsers = "manage_users"
    /// Change team settings (overlap, reservation time).
    case changeSettings = "change_settings"

    /// The roles that may take the action. `adjudicate` is also open to a reviewer marked as adjudicator.
    public var allowedRoles: [TeamRole] {
        switch self {
        case .annotate: return [.annotator, .reviewer, .admin]
        case .review, .releaseHeld: return [.reviewer, .admin]
        case .adjudicate, .moderateUsers, .manageUsers, .changeSettings: return [.admin]
        case .managePrompts, .optimize, .export, .augment, .queueAnnotation: return [.pm, .admin]
        }
    }

    /// The allowed roles in words: "admin", "pm or admin", "annotator, reviewer or admin".
    public var rolesList: String {
        let roles = allowedRoles.map(\.rawValue)
        return roles.count == 1 ? roles[0] : roles.dropLast().joined(separator: ", ") + " or " + roles.last!
    }

    /// What the action is, for messages: "… may not <phrase>".
    public var phrase: String {
        switch self {
        case .annotate: return "annotate"
        case .review: return "review samples"
        case .adjudicate: return "adjudicate disputed samples"
        case .releaseHeld: return "release or discard held feedback"
        case .moderateUsers: return "flag or clear end users"
        case .managePrompts: return "change prompt versions"
        case .optimize: return "run prompt optimisation"
        case .export: return "export training data"
        case .augment: return "make synthetic samples"
        case .queueAnnotation: return "queue annotation tasks"
        case .manageUsers: return "manage users"
        case .changeSettings: return "change team settings"
        }
    }
}

/// A registered team member.
public struct TeamMember: Sendable, Equatable {
    public var name: String
    public var role: TeamRole
    /// A reviewer who may also adjudicate.
    public var adjudicator: Bool
    public var createdAt: Int64
    public var createdBy: String?

    public init(name: String, role: TeamRole, adjudicator: Bool = false, createdAt: Int64, createdBy: String? = nil) {
        self.name = name
        self.role = role
        self.adjudicator = adjudicator
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    public func may(_ action: TeamAction) -> Bool {
        action.allowedRoles.contains(role) || (action == .adjudicate && role == .reviewer && adjudicator)
    }
}

/// Why an action was refused. The message names the role that may take it.
public enum PermissionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Users are registered and `name` is not one of them.
    case unknownUser(String, action: TeamAction)
    case notAllowed(TeamMember, action: TeamAction)

    public var description: String {
        switch self {
        case let .unknownUser(name, action):
            return "'\(name)' is not a registered user and may not \(action.phrase): an admin can add them with "
                + "flywheel user add \(name) --role \(action.allowedRoles.first!.rawValue)"
        case let .notAllowed(member, action):
            return "\(member.name) is \(article(member.role)) \(member.role.rawValue) and may not \(action.phrase): that needs "
                + Self.who(action)
        }
    }

    /// "the reviewer or admin role", "the admin role, or a reviewer marked adjudicator".
    static func who(_ action: TeamAction) -> String {
        let base = "the \(action.rolesList) role"
        return action == .adjudicate ? base + ", or a reviewer marked adjudicator (flywheel user role NAME reviewer --adjudicator)" : base
    }
}

private func article(_ role: TeamRole) -> String { role == .annotator || role == .admin ? "an" : "a" }

/// The permission check on its own: `members` empty means nobody is registered yet, and then everyone may do
/// everything (a single-person install needs no set-up); once one user exists, every guarded action needs a
/// registered user whose role allows it.
public func authorize(_ name: String, _ action: TeamAction, member: TeamMember?, anyRegistered: Bool) throws {
    guard anyRegistered else { return }
    guard let member else { throw PermissionError.unknownUser(name, action: action) }
    guard member.may(action) else { throw PermissionError.notAllowed(member, action: action) }
}
