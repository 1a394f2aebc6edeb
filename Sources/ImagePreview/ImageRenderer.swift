import TerminalKit
internal import CChafa

/// What the terminal can show, as the console's `ColorDepth` says (full256 / basic8 / none → mono).
public enum PreviewDepth: Sendable, Hashable, CaseIterable {
    /// xterm 256 colours (chafa's 240-colour cube and grey ramp, 16-255), block and box-drawing symbols.
    case full256
    /// The 8 basic ANSI colours (0-7), block and box-drawing symbols.
    case basic8
    /// No colour: block symbols in the terminal's foreground, reverse video where the cell is inverted.
    case mono
}

/// A rendered preview: `columns × rows` TerminalKit cells, row-major, every one of width 1. The image is
/// aspect-fitted and centred; the margins are blank default-style cells.
public struct ImagePreviewRender: Sendable, Equatable {
    public let columns: Int
    public let rows: Int
    public let cells: [Cell]

    public init(columns: Int, rows: Int, cells: [Cell]) {
        precondition(columns >= 0 && rows >= 0 && cells.count == columns * rows, "cells must hold columns * rows cells")
        self.columns = columns
        self.rows = rows
        self.cells = cells
    }

    public subscript(x: Int, y: Int) -> Cell { cells[y * columns + x] }

    /// Each row as text, trailing spaces removed (as `ScreenBuffer.lines()`): for snapshots.
    public var lines: [String] {
        (0..<rows).map { y in
            var s = ""
            for x in 0..<columns { s += cells[y * columns + x].text }
            while s.last == " " { s.removeLast() }
            return s
        }
    }
}

public enum ImageRenderer {
    /// Terminal cells are about twice as tall as wide.
    static let fontRatio: Float = 0.5

    /// Runs chafa's one-time global set-up (symbol tables, palettes) once, under Swift's thread-safe
    /// static initialisation: older libchafa releases guard it with a plain flag, not g_once, so two
    /// threads rendering their first preview at once could race in it.
    static let chafaReady: Bool = {
        let config = chafa_canvas_config_new()
        chafa_canvas_config_set_geometry(config, 1, 1)
        let canvas = chafa_canvas_new(config)
        let pixel: [UInt8] = [0, 0, 0, 255]
        pixel.withUnsafeBufferPointer { chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, $0.baseAddress, 1, 1, 4) }
        chafa_canvas_unref(canvas)
        chafa_canvas_config_unref(config)
        return true
    }()

    /// Renders `image` into `columns × rows` cells with chafa: the image is fitted (aspect kept, scaled up or
    /// down) into the area and centred. Colours are xterm palette indices (`Color.indexed`), read from the
    /// canvas with chafa_canvas_get_raw_colors_at (chafa_canvas_get_colors_at would give packed RGB even in
    /// indexed modes). Transparent pixels map to `.default`.
    public static func render(_ image: DecodedImage, columns: Int, rows: Int, depth: PreviewDepth) -> ImagePreviewRender {
        let columns = max(0, columns), rows = max(0, rows)
        var cells = [Cell](repeating: .blank, count: columns * rows)
        guard columns > 0, rows > 0, image.width > 0, image.height > 0,
              image.rgba.count == image.width * image.height * 4 else {
            return ImagePreviewRender(columns: columns, rows: rows, cells: cells)
        }
        _ = chafaReady
        var w = Int32(clamping: columns), h = Int32(clamping: rows)
        chafa_calc_canvas_geometry(Int32(clamping: image.width), Int32(clamping: image.height), &w, &h, fontRatio, 1, 0)
        let cw = Int(min(max(w, 1), Int32(clamping: columns))), ch = Int(min(max(h, 1), Int32(clamping: rows)))

        let symbols = chafa_symbol_map_new()
        let config = chafa_canvas_config_new()
        defer {
            chafa_canvas_config_unref(config)
            chafa_symbol_map_unref(symbols)
        }
        // Block elements, box drawing and space: all narrow (width 1 for wcwidth and TextWidth). Wide,
        // ambiguous-width and "ugly" symbols are removed explicitly in case a tag pulls one in.
        let tags = CHAFA_SYMBOL_TAG_SPACE.rawValue | CHAFA_SYMBOL_TAG_SOLID.rawValue | CHAFA_SYMBOL_TAG_BLOCK.rawValue
            | CHAFA_SYMBOL_TAG_BORDER.rawValue
        chafa_symbol_map_add_by_tags(symbols, ChafaSymbolTags(rawValue: tags))
        chafa_symbol_map_remove_by_tags(symbols, ChafaSymbolTags(rawValue: CHAFA_SYMBOL_TAG_WIDE.rawValue
            | CHAFA_SYMBOL_TAG_AMBIGUOUS.rawValue | CHAFA_SYMBOL_TAG_UGLY.rawValue))
        chafa_canvas_config_set_symbol_map(config, symbols)
        chafa_canvas_config_set_geometry(config, Int32(cw), Int32(ch))
        chafa_canvas_config_set_cell_geometry(config, 8, 16)
        switch depth {
        case .full256: chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_INDEXED_240)
        case .basic8:
            chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_INDEXED_8)
            // Chafa's preprocessing (on by default) boosts contrast for 8 colours; DIN99D matching keeps
            // greys grey (in RGB a mid-grey road comes out magenta or cyan).
            chafa_canvas_config_set_color_space(config, CHAFA_COLOR_SPACE_DIN99D)
        case .mono: chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_FGBG_BGFG)
        }
        guard let canvas = chafa_canvas_new(config) else { return ImagePreviewRender(columns: columns, rows: rows, cells: cells) }
        defer { chafa_canvas_unref(canvas) }
        image.rgba.withUnsafeBufferPointer { px in
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, px.baseAddress,
                                         Int32(image.width), Int32(image.height), Int32(image.width * 4))
        }

        let ox = (columns - cw) / 2, oy = (rows - ch) / 2
        for y in 0..<ch {
            for x in 0..<cw {
                let c = chafa_canvas_get_char_at(canvas, Int32(x), Int32(y))
                var fg: Int32 = -1, bg: Int32 = -1
                chafa_canvas_get_raw_colors_at(canvas, Int32(x), Int32(y), &fg, &bg)
                var text = " "
                if let scalar = Unicode.Scalar(c), TextWidth.width(of: scalar) == 1 { text = String(Character(scalar)) }
                let style: Style
                switch depth {
                case .full256, .basic8:
                    style = Style(fg: color(fg), bg: color(bg))
                case .mono:
                    // FGBG_BGFG: raw 0 is the terminal's foreground (light), -1 its background (dark).
                    switch (fg >= 0, bg >= 0) {
                    case (true, false): style = .plain                          // light symbol on dark
                    case (false, true): style = Style(attributes: .reverse)     // dark symbol on light
                    case (true, true): style = Style(attributes: .reverse); text = " "  // all light
                    case (false, false): style = .plain; text = " "                     // all dark
                    }
                }
                cells[(oy + y) * columns + ox + x] = Cell(text, width: 1, style: style)
            }
        }
        return ImagePreviewRender(columns: columns, rows: rows, cells: cells)
    }

    static func color(_ raw: Int32) -> Color {
        raw >= 0 && raw <= 255 ? .indexed(UInt8(raw)) : .default
    }
}

extension ScreenBuffer {
    /// Copies `preview`'s cells with their top-left corner at (x, y), clipped to the buffer. A wide
    /// character the preview overwrites half of is replaced by a blank, so columns stay aligned.
    public mutating func draw(_ preview: ImagePreviewRender, at x: Int, y: Int) {
        let x0 = max(0, x), x1 = min(width, x + preview.columns)
        let y0 = max(0, y), y1 = min(height, y + preview.rows)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            // Left edge: a wide character starting just outside loses its right half.
            if self[x0, row].width == 0, x0 > 0, self[x0 - 1, row].width == 2 {
                self[x0 - 1, row] = Cell(" ", width: 1, style: self[x0 - 1, row].style)
            }
            // Right edge: a wide character starting on the last column loses its continuation.
            if x1 < width, self[x1, row].width == 0 {
                self[x1, row] = Cell(" ", width: 1, style: self[x1, row].style)
            }
            for col in x0..<x1 {
                self[col, row] = preview.cells[(row - y) * preview.columns + (col - x)]
            }
        }
    }
}
