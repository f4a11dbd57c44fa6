import ArgumentParser
import LoaFeed

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Bên phát (huyện, tỉnh): tạo cặp khóa Ed25519 để ký feed; PREFIX.key giữ kín, PREFIX.pub gửi cho các xã.")

    // Every command takes --config; these district-side ones do not read it.
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Tiền tố tên tệp: ghi PREFIX.key (khóa bí mật, quyền 600) và PREFIX.pub.") var out: String

    func run() throws {
        // `--out ""`, `dir/` or `/` would make hidden files named only `.key` and `.pub`, somewhere not meant.
        guard let name = out.split(separator: "/", omittingEmptySubsequences: false).last, !name.isEmpty, name != ".", name != ".." else {
            throw OperatorError("--out: cần một tiền tố tên tệp, ví dụ “huyen” hoặc “khoa/huyen” (không kết thúc bằng /)")
        }
        let publicKey = try FeedSigning.generateKey(prefix: out)
        print("Đã tạo \(out).key (khóa bí mật, chỉ chủ sở hữu đọc được) và \(out).pub")
        print("Khóa công khai (ghi vào public_keys của [[feed]] trong loa.toml ở xã): \(publicKey)")
    }
}
