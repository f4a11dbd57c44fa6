import Foundation

/// A report written out for people: CSV for a spreadsheet and one self-contained printable HTML page. Pure:
/// each returns the document's text. `reports` holds one report per station; a merged report of several
/// stations adds `total`, their sum.
public enum ReportDocuments {
    /// The columns of a report's figures, with Vietnamese headings, as CSV and the tables show them.
    public static let figureHeadings = [
        "Số tin bài", "Số lượt phát", "Thời lượng phát", "Thời lượng yêu cầu", "Lượt phát khẩn cấp", "Bị cắt", "Bị ngắt",
        "Lỗi", "Bỏ qua", "Xác nhận nghe thấy", "Xác nhận im lặng",
    ]

    /// A row's figures in the order of ``figureHeadings``, durations as `h:mm:ss`.
    public static func figures(_ row: ReportRow) -> [String] {
        [String(row.items), String(row.completed), clockDuration(row.airedSeconds), clockDuration(row.requestedSeconds),
         String(row.emergency), String(row.truncated), String(row.interrupted), String(row.failed), String(row.skipped),
         String(row.confirmedHeard), String(row.confirmedSilent)]
    }

    /// The columns of a source's relays (thời lượng tiếp sóng), as the tables show them.
    public static let relayHeadings = ["Nguồn tiếp sóng", "Số lượt tiếp sóng", "Thời lượng kế hoạch", "Thời lượng tiếp sóng",
                                       "Thời lượng phát dự phòng"]

    /// A source's line in the order of ``relayHeadings``, durations as `h:mm:ss`.
    public static func relayFigures(_ relay: RelayAirtime) -> [String] {
        [relay.label, String(relay.occurrences), clockDuration(relay.plannedSeconds), clockDuration(relay.relayedSeconds),
         clockDuration(relay.fallbackSeconds)]
    }

    /// The period in words: `từ 01/11/2026 đến 30/11/2026`, and the campaign when the report is of one.
    public static func period(_ report: Report) -> String {
        "từ \(dayText(report.from)) đến \(dayText(report.to))" + (report.campaign.map { ", chiến dịch “\($0)”" } ?? "")
    }

    static func dayText(_ day: LocalDate) -> String {
        (day.day < 10 ? "0" : "") + "\(day.day)/" + (day.month < 10 ? "0" : "") + "\(day.month)/\(day.year)"
    }

    // MARK: CSV

    /// UTF-8 with a byte-order mark (so LibreOffice and Excel read the diacritics), CRLF line ends, RFC 4180
    /// quoting. One line per row of every table, then each station's total, then the total of all: the
    /// station and the grouping lead each line, so a spreadsheet can filter on them. Durations are given
    /// as `h:mm:ss` and in whole seconds. A source's relays are a line of their own, grouping `Tiếp sóng`, before the
    /// total (which they are not part of): relays in `Số lượt phát`, the seconds relayed as airtime and those planned as
    /// requested, and the fallback's seconds in the last column, which only these lines fill.
    public static func csv(_ reports: [Report], total: Report? = nil) -> String {
        var lines = [["Đài", "Từ ngày", "Đến ngày", "Nhóm theo", "Mã", "Tên"] + figureHeadings
            + ["Thời lượng phát (giây)", "Thời lượng yêu cầu (giây)", "Thời lượng phát dự phòng (giây)"]]
        func line(_ report: Report, _ grouping: String, _ row: ReportRow) -> [String] {
            [report.station, report.from.description, report.to.description, grouping, row.key, row.label] + figures(row)
                + [String(Int(row.airedSeconds.rounded())), String(Int(row.requestedSeconds.rounded())), ""]
        }
        func line(_ report: Report, _ relay: RelayAirtime) -> [String] {
            var figures = [String](repeating: "", count: figureHeadings.count)
            (figures[1], figures[2], figures[3]) = (String(relay.occurrences), clockDuration(relay.relayedSeconds),
                                                    clockDuration(relay.plannedSeconds))
            return [report.station, report.from.description, report.to.description, "Tiếp sóng", relay.source, relay.label] + figures
                + [String(Int(relay.relayedSeconds.rounded())), String(Int(relay.plannedSeconds.rounded())),
                   String(Int(relay.fallbackSeconds.rounded()))]
        }
        for report in reports + (total.map { [$0] } ?? []) {
            for table in report.tables {
                for row in table.rows { lines.append(line(report, table.by.heading, row)) }
            }
            for relay in report.relays { lines.append(line(report, relay)) }
            lines.append(line(report, "Tổng cộng", report.total))
        }
        return "\u{FEFF}" + lines.map(CSV.record).joined()
    }

    // MARK: HTML

    /// One printable page in Vietnamese with nothing to fetch: for each station (and the total of a merge) its
    /// main figures, a bar chart (inline SVG) of airings per month and pillar, a table per grouping, and
    /// requested against aired airings for segments whose feed asks for a number.
    public static func html(_ reports: [Report], total: Report? = nil) -> String {
        let title = reports.count == 1 ? "Báo cáo phát thanh — \(reports[0].station)" : "Báo cáo phát thanh — \(reports.count) đài"
        var out = """
            <!DOCTYPE html>
            <html lang="vi">
            <head>
            <meta charset="utf-8">
            <title>\(escape(title))</title>
            <style>
            body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #111; }
            h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
            h3 { font-size: 1em; margin-top: 1.2em; }
            table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
            th, td { border: 1px solid #999; padding: 0.25em 0.5em; }
            th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
            tr.total td { font-weight: bold; } section { page-break-inside: avoid; }
            @media print { body { margin: 1cm; } section.station { page-break-before: always; } section.station:first-of-type { page-break-before: auto; } }
            </style>
            </head>
            <body>
            <h1>\(escape(title))</h1>

            """
        for report in reports + (total.map { [$0] } ?? []) { out += section(report) }
        out += "</body>\n</html>\n"
        return out
    }

    static func section(_ report: Report) -> String {
        let t = report.total
        var out = "<section class=\"station\">\n<h2>\(escape(report.station))</h2>\n<p>Kỳ báo cáo: \(escape(period(report))).</p>\n"
        out += "<h3>Số liệu chính</h3>\n<table>\n<tr>"
        out += ["Số tin bài", "Số lượt phát", "Thời lượng phát", "Lượt phát khẩn cấp", "Thời lượng yêu cầu",
                "Đã phát / yêu cầu", "Xác nhận nghe thấy"].map { "<th>\($0)</th>" }.joined()
        let ratio = t.requestedSeconds > 0 ? decimalText(100 * t.airedSeconds / t.requestedSeconds) + " %" : "—"
        out += "</tr>\n<tr>" + [String(t.items), String(t.completed), clockDuration(t.airedSeconds), String(t.emergency),
                                 clockDuration(t.requestedSeconds), ratio, "\(t.confirmedHeard)/\(t.completed)"]
            .map { "<td class=\"n\">\(escape($0))</td>" }.joined() + "</tr>\n</table>\n"
        out += "<h3>Số lượt phát theo tháng và trụ cột</h3>\n" + chart(report.chart) + "\n"
        for table in report.tables {
            out += "<h3>Theo \(escape(table.by.heading.lowercased()))</h3>\n<table>\n<tr><th>\(escape(table.by.heading))</th>"
            out += figureHeadings.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            func cells(_ row: ReportRow) -> String {
                "<td>\(escape(row.label))</td>" + figures(row).map { "<td class=\"n\">\(escape($0))</td>" }.joined()
            }
            for row in table.rows { out += "<tr>" + cells(row) + "</tr>\n" }
            out += "<tr class=\"total\">" + cells(report.total) + "</tr>\n</table>\n"
        }
        if !report.relays.isEmpty {
            // Beside the bulletins, not among them: a relay is airtime, not an airing of a segment.
            out += "<h3>Thời lượng tiếp sóng</h3>\n<table>\n<tr>" + relayHeadings.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for relay in report.relays {
                let figures = relayFigures(relay)
                out += "<tr><td>\(escape(figures[0]))</td>" + figures.dropFirst().map { "<td class=\"n\">\(escape($0))</td>" }.joined() + "</tr>\n"
            }
            out += "</table>\n"
        }
        if !report.requests.isEmpty {
            out += "<h3>Yêu cầu của nơi gửi và số lượt đã phát</h3>\n<table>\n<tr><th>Bản tin</th><th>Nguồn</th><th>Yêu cầu</th>"
            out += "<th>Số lượt yêu cầu trong kỳ</th><th>Số lượt đã phát</th><th>Còn thiếu</th></tr>\n"
            for request in report.requests {
                let asked: String
                switch request.request {
                case let .perWeek(n): asked = "\(n) lượt mỗi tuần"
                case let .total(n): asked = "\(n) lượt"
                }
                out += "<tr><td>\(escape(request.title))</td><td>\(escape(request.feed ?? "—"))</td><td>\(escape(asked))</td>"
                out += "<td class=\"n\">\(request.requested)</td><td class=\"n\">\(request.aired)</td>"
                out += "<td class=\"n\">\(max(0, request.requested - request.aired))</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out + "</section>\n"
    }

    /// Colours of the chart's pillars, told apart in grey print too.
    static let pillarColours = ["chinh-tri-an-ninh": "#b2182b", "kinh-te": "#2166ac", "van-hoa-xa-hoi": "#4d9221",
                                "khac": "#999999"]

    /// Grouped bars: one group per month, one bar per pillar, its count above it; a legend underneath.
    static func chart(_ data: [MonthlyAirings]) -> String {
        let months = data.reduce(into: [String]()) { if $0.last != $1.month { $0.append($1.month) } }
        let pillars = data.reduce(into: [String]()) { if !$0.contains($1.pillar) { $0.append($1.pillar) } }
        guard !months.isEmpty, !pillars.isEmpty else { return "<p>Không có dữ liệu.</p>" }
        let top = max(1, data.map(\.airings).max() ?? 1)
        let bar = 14.0, gap = 10.0, left = 40.0, plotHeight = 180.0, base = 20.0 + plotHeight
        let groupWidth = Double(pillars.count) * bar + gap
        // Wide enough for the legend's longest pillar name, whatever the number of months.
        let width = max(300, left + Double(months.count) * groupWidth + 10)
        let height = base + 40 + Double(pillars.count) * 16
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        svg += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Số lượt phát theo tháng và trụ cột\" "
        svg += "font-family=\"sans-serif\" font-size=\"10\">\n"
        svg += "<line x1=\"\(left)\" y1=\"\(base)\" x2=\"\(width - 5)\" y2=\"\(base)\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(left - 4)\" y=\"24\" text-anchor=\"end\">\(top)</text><text x=\"\(left - 4)\" y=\"\(base)\" text-anchor=\"end\">0</text>\n"
        let byKey = Dictionary(data.map { ($0.month + "/" + $0.pillar, $0.airings) }, uniquingKeysWith: +)
        for (m, month) in months.enumerated() {
            let x0 = left + Double(m) * groupWidth + gap / 2
            for (p, pillar) in pillars.enumerated() {
                let count = byKey[month + "/" + pillar] ?? 0
                let h = plotHeight * Double(count) / Double(top)
                let x = x0 + Double(p) * bar
                let name = Pillar(rawValue: pillar)?.label ?? "Khác"
                svg += "<rect x=\"\(x)\" y=\"\(tenth(base - h))\" width=\"\(bar - 2)\" height=\"\(tenth(h))\" fill=\"\(pillarColours[pillar] ?? "#666")\">"
                svg += "<title>\(escape(name)), \(escape(ReportBuilder.label(key: month, by: .month))): \(count) lượt phát</title></rect>\n"
                if count > 0 { svg += "<text x=\"\(x + (bar - 2) / 2)\" y=\"\(tenth(base - h - 2))\" text-anchor=\"middle\">\(count)</text>\n" }
            }
            let parts = month.split(separator: "-")
            let label = parts.count == 2 ? "\(Int(parts[1]) ?? 0)/\(parts[0])" : month
            svg += "<text x=\"\(x0 + Double(pillars.count) * bar / 2)\" y=\"\(base + 14)\" text-anchor=\"middle\">\(escape(label))</text>\n"
        }
        for (p, pillar) in pillars.enumerated() {
            let y = base + 30 + Double(p) * 16
            svg += "<rect x=\"\(left)\" y=\"\(y)\" width=\"10\" height=\"10\" fill=\"\(pillarColours[pillar] ?? "#666")\"/>"
            svg += "<text x=\"\(left + 16)\" y=\"\(y + 9)\">\(escape(Pillar(rawValue: pillar)?.label ?? "Khác (không thuộc trụ cột)"))</text>\n"
        }
        return svg + "</svg>"
    }

    /// A coordinate to a tenth of a pixel.
    static func tenth(_ value: Double) -> String { String((value * 10).rounded() / 10) }

    /// Text made safe for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
