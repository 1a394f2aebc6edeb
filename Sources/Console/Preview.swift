import FlywheelStore
import Foundation
import ImagePreview
import TerminalKit

// The image the user saw, drawn into the screen beside the text (issue: image inside the console). Decoding
// and rendering run on the runner's threads and are cached per (image, size); the view only copies cells.

/// Which image at which size: what a render is for.
public struct PreviewKey: Hashable, Sendable {
    public var imageID: Int64
    public var columns: Int
    public var rows: Int
}

/// A preview, or the one-line reason there is none.
public struct PreviewOutcome: Sendable {
    var file: ImageFile?
    var render: ImagePreviewRender?
    var problem: String?
}

struct PreviewState {
    /// Recent outcomes (a handful: the selection moves one at a time).
    var outcomes: [PreviewKey: PreviewOutcome] = [:]
    var order: [PreviewKey] = []
    var requested: Set<PreviewKey> = []
    /// `z`: the image fills the screen.
    var zoomed = false

    mutating func store(_ key: PreviewKey, _ outcome: PreviewOutcome) {
        requested.remove(key)
        outcomes[key] = outcome
        order.removeAll { $0 == key }
        order.append(key)
        while order.count > 16 { outcomes[order.removeFirst()] = nil }
    }
}

extension Console {
    /// The image of what is selected: the sample's, or the latest image of the selected session.
    static func selectedImageID(_ state: AppState) -> Int64? {
        switch state.screen {
        case .sessions:
            guard let row = state.sessions.list.selectedRow, let conv = state.sessions.conversation, conv.sessionID == row.sessionID else { return nil }
            return conv.turns.last { $0.imageID != nil }?.imageID
        case .review:
            return state.review.list.selectedRow?.sample.imageID
        case .annotate:
            return state.annotate.current?.imageID
        default:
            return nil
        }
    }

    /// Where the preview goes: the top of the detail panel (or the whole body when zoomed).
    static func previewRect(_ state: AppState) -> Rect? {
        guard selectedImageID(state) != nil else { return nil }
        let layout = Layout(width: state.width, height: state.height)
        if state.preview.zoomed { return layout.body.inset(1) }
        if state.screen == .annotate {
            // The annotate screen's image panel: below the progress bar, three fifths of the width.
            let rest = layout.body.splitRows(1).1
            let left = rest.splitColumns(max(20, rest.width * 3 / 5)).0.inset(1)
            return left.width >= 8 && left.height >= 3 ? Rect(x: left.x + 1, y: left.y, width: left.width - 2, height: left.height) : nil
        }
        let inner = layout.detail.inset(1)
        let rows = min(12, inner.height / 2)
        guard rows >= 3, inner.width >= 8 else { return nil }
        return Rect(x: inner.x + 1, y: inner.y, width: inner.width - 2, height: rows)
    }

    static func previewKey(_ state: AppState) -> PreviewKey? {
        guard let id = selectedImageID(state), let r = previewRect(state) else { return nil }
        return PreviewKey(imageID: id, columns: r.width, rows: r.height)
    }

    /// Rows the detail text starts below (the preview's height plus a blank row).
    static func previewOffset(_ state: AppState) -> Int {
        guard !state.preview.zoomed, let r = previewRect(state), let key = previewKey(state) else { return 0 }
        // A reason (missing, damaged, URL) takes one line, not the picture's room.
        if let outcome = state.preview.outcomes[key], outcome.render == nil { return 2 }
        return r.height + 1
    }

    static func previewFollowUp(_ state: inout AppState) -> [Effect] {
        guard let key = previewKey(state), state.preview.outcomes[key] == nil, !state.preview.requested.contains(key) else { return [] }
        state.preview.requested.insert(key)
        return [.loadPreview(key)]
    }

    static func drawPreview(_ buf: inout ScreenBuffer, _ state: AppState) {
        guard let key = previewKey(state), let r = previewRect(state) else { return }
        let t = state.theme
        buf.fill(r, style: t[.base])
        guard let outcome = state.preview.outcomes[key] else {
            buf.put("loading image…", x: r.x, y: r.y, maxWidth: r.width, style: t[.muted])
            return
        }
        if let render = outcome.render {
            buf.draw(render, at: r.x, y: r.y)
        } else {
            buf.put("[image] " + (outcome.problem ?? "no preview"), x: r.x, y: r.y, maxWidth: r.width, style: t[.muted])
        }
    }

    static func drawZoomed(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let body = Layout(width: state.width, height: state.height).body
        buf.fill(body, style: t[.base])
        var title = "Image"
        if let key = previewKey(state), let f = state.preview.outcomes[key]?.file {
            title += " \(f.ref)" + (f.width.map { " · \($0)×\(f.height ?? 0)" } ?? "")
        }
        buf.box(body, title: title + " · z or Esc closes, o opens it", style: t[.focusBorder], titleStyle: t[.title])
        drawPreview(&buf, state)
    }

    static func performPreview(_ state: inout AppState, _ action: Action) -> [Effect] {
        switch action {
        case .zoom:
            guard selectedImageID(state) != nil else {
                state.status = StatusLine(text: "no image here", isError: false)
                return []
            }
            state.preview.zoomed.toggle()
        case .openImage:
            guard let id = selectedImageID(state) else {
                state.status = StatusLine(text: "no image here", isError: false)
                return []
            }
            return [.openImage(imageID: id)]
        default: break
        }
        return []
    }
}

/// Opens an image in the user's viewer: `$FLYWHEEL_IMAGE_VIEWER`, else `xdg-open` when there is a display.
/// Returns what happened, in words for the status bar.
enum ImageViewer {
    static func open(_ file: ImageFile?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<String, EffectRunner.Failure> {
        guard let file else { return .failure(.init(description: "image not found in the database")) }
        if file.status == "url" { return .failure(.init(description: "a URL image is not fetched: \(file.ref)")) }
        guard let path = file.path, file.status == "present" else { return .failure(.init(description: "the image file is \(file.status): \(file.ref)")) }
        let viewer = environment["FLYWHEEL_IMAGE_VIEWER"].flatMap { $0.isEmpty ? nil : $0 }
        let hasDisplay = (environment["DISPLAY"] ?? "").isEmpty == false || (environment["WAYLAND_DISPLAY"] ?? "").isEmpty == false
        guard viewer != nil || hasDisplay else {
            return .failure(.init(description: "no display to open it on (set FLYWHEEL_IMAGE_VIEWER to a command to use one); the file is \(path)"))
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [viewer ?? "xdg-open", path]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return .failure(.init(description: "cannot start \(viewer ?? "xdg-open"): \(error)")) }
        return .success("opened \(path) with \(viewer ?? "xdg-open")")
    }
}
