import FlywheelCore
import Foundation
import GRDB

// Trust in end users' feedback. The rules are FlywheelCore's `TrustScoring`; this file gathers each end user's
// explicit feedback with what reviewers finally decided about it, stores the scores and flags, gives samples
// their user's weight, and holds new samples from flagged users until a reviewer releases or discards them.

extension Store {
    /// Samples built from what an end user said or did (not seed labels or error logs) carry their trust.
    static let userSourcedSamples = "source IN ('user_correction', 'implicit_correction', 'thumbs_down')"

    /// Sets a new sample's end user and weight; holds it when that user is flagged.
    static func attributeToEndUser(_ db: Database, sampleID: Int64) throws {
        try db.execute(sql: """
            UPDATE training_samples SET end_user = coalesce(
                (SELECT f.user_id FROM feedback f WHERE f.id = training_samples.feedback_id),
                (SELECT se.user_id FROM sessions se WHERE se.session_id = training_samples.session_id),
                (SELECT r.user_id FROM recognitions r WHERE r.request_id = training_samples.request_id ORDER BY r.id DESC LIMIT 1))
            WHERE id = ? AND \(userSourcedSamples)
            """, arguments: [sampleID])
        try db.execute(sql: """
            UPDATE training_samples
            SET weight = CASE WHEN u.flagged = 1 THEN 0 ELSE u.weight END,
                held_state = CASE WHEN u.flagged = 1 THEN training_samples.state END,
                state = CASE WHEN u.flagged = 1 THEN 'held' ELSE training_samples.state END
            FROM end_user_trust u
            WHERE training_samples.id = ? AND u.user_id = training_samples.end_user
            """, arguments: [sampleID])
    }
}
