#!/usr/bin/env python3
"""Writes loa(1) from the command definitions: the JSON `loa --experimental-dump-help` prints (ArgumentParser's
ToolInfo). Every command, argument and option, with its help, comes from there; only what no command definition
holds is written here: the files, the exit statuses, the environment.

ArgumentParser's own `generate-manual` plugin is not used: it rebuilds every product of the package in its own
configuration (a second release build, without --static-swift-stdlib), and its page can say neither which files
Loa uses nor that 3 means "daemon not running".

Usage: manpage.py LOA_BINARY --date YYYY-MM-DD > loa.1
"""

import argparse
import json
import subprocess
import sys


def roff(text):
    """Text for a roff line: backslashes and hyphens escaped, no line starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def quoted(text):
    """An argument of a macro line (.TH, .SS): double quotes inside become roff's \\(dq."""
    return '"' + roff(text).replace('"', "\\(dq") + '"'


def name_text(name):
    prefix = {"long": "--", "short": "-", "longWithSingleDash": "-"}[name["kind"]]
    return prefix + name["name"]


def argument_label(argument):
    """`--date <date>`, `-h, --help`, `<file> ...`: as the argument is written on the command line."""
    value = "<%s>" % argument.get("valueName", "value")
    if argument["kind"] == "positional":
        return value + (" ..." if argument.get("isRepeating") else "")
    names = ", ".join(name_text(n) for n in argument.get("names", []))
    if argument["kind"] == "option":
        return names + " " + value + (" ..." if argument.get("isRepeating") else "")
    return names


def synopsis_item(argument):
    if argument["kind"] == "positional":
        text = "<%s>" % argument.get("valueName", "value")
    else:
        preferred = argument.get("preferredName") or argument["names"][0]
        text = name_text(preferred)
        if argument["kind"] == "option":
            text += " <%s>" % argument.get("valueName", "value")
    if argument.get("isRepeating"):
        text += " ..."
    return "[%s]" % text if argument.get("isOptional") else text


GLOBAL = ("help", "version", "config")

# ArgumentParser's own flags carry English help; the page is in Vietnamese.
BUILT_IN = {"help": "In trợ giúp của lệnh.", "version": "In số phiên bản."}


def long_name(argument):
    return next((n["name"] for n in argument.get("names", []) if n["kind"] == "long"), None)


def shown(arguments):
    # --help, --version and --config are said once, under the general options: every subcommand has them.
    return [a for a in arguments or [] if a.get("shouldDisplay", True) and long_name(a) not in GLOBAL]


def global_options(root):
    """--config (from the first command that takes it), then --help and --version."""
    options = []
    for command in commands(root):
        config = next((a for a in command.get("arguments") or [] if long_name(a) == "config"), None)
        if config:
            options.append(config)
            break
    for argument in root.get("arguments") or []:
        if argument.get("shouldDisplay", True) and long_name(argument) in BUILT_IN:
            options.append(dict(argument, abstract=BUILT_IN[long_name(argument)]))
    return options


def full_name(command):
    return " ".join((command.get("superCommands") or []) + [command["commandName"]])


def commands(command):
    """Every command that runs something (the leaves), depth first, in the order the tool lists them."""
    # ArgumentParser's `help` subcommand is the same as --help.
    subcommands = [c for c in command.get("subcommands") or [] if c.get("shouldDisplay", True) and c["commandName"] != "help"]
    if not subcommands:
        yield command
        return
    if command.get("superCommands") and command.get("defaultSubcommand"):
        yield command
    for subcommand in subcommands:
        yield from commands(subcommand)


def argument_entries(arguments, out):
    for argument in arguments:
        out.append(".TP")
        out.append(".B " + quoted(argument_label(argument)))
        text = argument.get("abstract") or ""
        if argument.get("discussion"):
            text += ("\n" if text else "") + argument["discussion"]
        if argument.get("defaultValue") and argument["kind"] != "flag":
            text += ("\n" if text else "") + "Mặc định: %s." % argument["defaultValue"]
        values = argument.get("allValueStrings")
        if values and argument["kind"] != "flag":
            text += ("\n" if text else "") + "Giá trị: %s." % ", ".join(values)
        if text:
            out.append(roff(text))


def page(tool, date):
    root = tool["command"]
    name = root["commandName"]
    version = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    out = [
        '.\\" Generated by packaging/manpage.py from `%s --experimental-dump-help`; do not edit.' % name,
        ".TH %s 1 %s %s %s" % (name.upper(), quoted(date), quoted("%s %s" % (name, version)),
                               quoted("Hướng dẫn sử dụng Loa")),
        ".SH TÊN",
        "%s \\- %s" % (name, roff(root.get("abstract", "").split(":", 1)[-1].strip().rstrip("."))),
        ".SH TÓM TẮT",
    ]
    for command in commands(root):
        if command.get("subcommands"):
            continue  # a command whose default subcommand runs (`loa log`): its subcommands have the lines
        items = [synopsis_item(a) for a in shown(command.get("arguments"))]
        out.append(".B " + quoted(full_name(command)))
        if items:
            out.append(roff(" ".join(items)))
        out.append(".br")
    out.append(".B %s" % quoted(name + " --version"))
    out.append(".br")
    out.append(".B %s" % quoted(name + " --generate-completion-script bash|zsh|fish"))
    out += [
        ".SH MÔ TẢ",
        roff(root.get("abstract", "")),
    ]
    if root.get("discussion"):
        out += [".PP", roff(root["discussion"])]
    out += [
        ".PP",
        "Mọi lệnh nhận", ".B \\-\\-config", "(xem", ".BR \"TÙY CHỌN CHUNG\" ),", "trước hoặc sau tên lệnh.",
        "Lỗi người dùng được báo trong một dòng trên",
        "stderr, không bao giờ là một vết ngăn xếp. Nhãn hiển thị bằng tiếng Việt; slug và khóa JSON là ASCII.",
        ".SH LỆNH",
    ]
    for command in commands(root):
        out.append(".SS " + quoted(full_name(command)))
        if command.get("abstract"):
            out.append(roff(command["abstract"]))
        if command.get("discussion"):
            out += [".PP", roff(command["discussion"])]
        arguments = shown(command.get("arguments"))
        if arguments:
            argument_entries(arguments, out)
    out += [
        ".SH TÙY CHỌN CHUNG",
    ]
    argument_entries(global_options(root), out)
    out += [
        ".TP", ".B \\-\\-generate\\-completion\\-script <shell>",
        "In đoạn mã gợi ý lệnh cho bash, zsh hoặc fish (gói .deb đã cài sẵn cả ba).",
        ".SH TỆP",
        ".TP", ".I ./loa.toml",
        "Cấu hình được dùng khi không có", ".BR \\-\\-config ,", "nếu có trong thư mục hiện tại.",
        ".TP", ".I /etc/loa/loa.toml",
        "Cấu hình của đài khi cài bằng gói .deb (tệp conffile: nâng cấp gói giữ bản đã sửa). Đường dẫn tương đối",
        "trong tệp được tính từ thư mục chứa nó.",
        ".TP", ".I /var/lib/loa/",
        "Dữ liệu của đài, thuộc người dùng hệ thống", ".BR loa :",
        ".I schedules/", "(các tệp lịch *.toml),",
        ".I audio/", "(thư viện bản tin; bản phát 48 kHz trong", ".IR audio/.playout/ ),",
        ".I loa.sqlite", "(thư viện và nhật ký phát),",
        ".I loa.sqlite.lock", "(khóa: chỉ một daemon ghi một cơ sở dữ liệu) và",
        ".I loa.sock", "(kênh điều khiển mà", ".B loa announce", "và", ".B loa status", "dùng để gọi daemon).",
        "Gỡ gói giữ nguyên thư mục này; chỉ", ".B dpkg \\-\\-purge loa", "mới xóa nó.",
        ".TP", ".I /lib/systemd/system/loa.service",
        "Dịch vụ systemd chạy", ".B loa daemon \\-\\-config /etc/loa/loa.toml", "dưới tên người dùng",
        ".B loa", "(nhóm", ".BR audio ),", "khởi động lại khi lỗi, có watchdog.",
        ".SH MÔI TRƯỜNG",
        ".TP", ".B NOTIFY_SOCKET, WATCHDOG_USEC",
        "Do systemd đặt:", ".B loa daemon", "báo READY khi đã sẵn sàng, gửi WATCHDOG đều đặn và STOPPING khi dừng.",
        ".SH TRẠNG THÁI THOÁT",
        ".TP", ".B 0", "Thành công.",
        ".TP", ".B 1",
        "Lỗi người dùng (tùy chọn sai, tệp không có, lịch có lỗi, ...): lý do trong một dòng trên stderr,",
        "với lịch là", ".IR tệp:dòng .",
        ".TP", ".B 3",
        "Daemon không chạy:", ".B loa status", "và", ".B loa announce", "không gọi được daemon qua kênh điều khiển.",
        ".SH VÍ DỤ",
        ".nf",
        "systemctl status loa",
        "loa schedule validate",
        "loa schedule show \\-\\-date 2026\\-11\\-14",
        "loa report \\-\\-campaign \"HNCC ASEAN 37\" \\-\\-by pillar",
        ".fi",
        ".SH XEM THÊM",
        ".BR systemctl (1),",
        ".BR journalctl (1),",
        ".BR aplay (1)",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--date", required=True, help="the page's date, YYYY-MM-DD (the last commit's, for a reproducible page)")
    options = parser.parse_args()
    BINARY = options.binary
    dump = subprocess.run([BINARY, "--experimental-dump-help"], capture_output=True, text=True, check=True).stdout
    tool = json.loads(dump)
    if tool.get("serializationVersion") != 0:
        sys.exit("manpage.py: unknown dump-help serializationVersion %r" % tool.get("serializationVersion"))
    sys.stdout.write(page(tool, options.date))
