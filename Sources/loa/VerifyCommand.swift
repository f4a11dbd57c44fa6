import ArgumentParser
import Foundation
import LoaFeed
import LoaStore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Huyện: kiểm một tệp “loa log export” (chữ ký FILE.sig và chuỗi hash); in “ok” hoặc dòng đầu tiên bị sửa, xóa, chèn, đổi chỗ.")

    // Every command takes --config; this district-side one does not read it.
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Tệp xuất (CSV hoặc NDJSON).") var file: String
    @Option(help: "Khóa công khai của đài: tệp PREFIX.pub hoặc chính dòng base64.") var key: String

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: file) else { throw OperatorError("\(file): không đọc được") }
        guard let signature = try? String(contentsOfFile: file + ".sig", encoding: .utf8) else {
            throw OperatorError("\(file).sig: không đọc được chữ ký (tệp xuất đi kèm tệp .sig)")
        }
        let publicKey = ((try? String(contentsOfFile: key, encoding: .utf8)) ?? key).trimmingCharacters(in: .whitespacesAndNewlines)
        // One read gives both: the chain, which names the row, and the digest the signature covers (what the
        // chain cannot: a chain recomputed whole).
        let (verdict, digest) = AiringExport.verify(fileAt: file)
        let signed = FeedSigning.signer(of: digest, signature: signature, publicKeys: [publicKey]) != nil
        switch verdict {
        case let .broken(reason):
            throw OperatorError("\(file): \(reason)" + (signed ? "" : " (chữ ký cũng không khớp)"))
        case let .intact(rows, first, last):
            guard signed else {
                throw OperatorError("\(file): chữ ký sai, hoặc không phải của khóa này: tệp không do đài này xuất, hoặc đã bị sửa rồi tính lại hash")
            }
            print("ok: \(rows) lượt phát" + (first.map { " (seq \($0)–\(last ?? $0))" } ?? "") + ", chữ ký đúng, chuỗi hash nguyên vẹn")
        }
    }
}
