/// One of the three pillars of the ASEAN Community, as the programme names them.
public enum Pillar: String, CaseIterable, Sendable, Codable, Hashable {
    case chinhTriAnNinh = "chinh-tri-an-ninh"
    case kinhTe = "kinh-te"
    case vanHoaXaHoi = "van-hoa-xa-hoi"

    /// The label a commune officer reads.
    public var label: String {
        switch self {
        case .chinhTriAnNinh: "Trụ cột Chính trị - An ninh"
        case .kinhTe: "Trụ cột Kinh tế"
        case .vanHoaXaHoi: "Trụ cột Văn hóa - Xã hội"
        }
    }

    /// The slugs, comma-separated, for help texts.
    public static var slugList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// What to tell an operator who wrote `name` where a pillar belongs.
    public static func unknownMessage(_ name: String) -> String { "trụ cột không hợp lệ “\(name)” (chọn: \(slugList))" }
}
