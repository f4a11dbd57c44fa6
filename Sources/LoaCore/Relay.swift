import Foundation

/// An upstream a relay slot takes live (nguồn tiếp sóng): a `[[source]]` of `loa.toml`.
public struct UpstreamSource: Sendable, Hashable, Codable, Identifiable {
    /// How the upstream is reached.
    public enum Input: Sendable, Hashable, Codable {
        /// An HTTP or HTTPS stream: Icecast, Shoutcast, or an HLS playlist (`.m3u8`).
        case stream(url: String)
        /// An ALSA capture PCM: a receiver on the sound card's line input.
        case capture(device: String)
    }

    /// The slug a slot's `relay` names.
    public var name: String
    /// What people read (“VOV1”, “Đài PT-TH tỉnh”); the name when not given.
    public var label: String
    public var input: Input
    public var tuning: RelayTuning
    /// Where its `[[source]]` header is in `loa.toml`.
    public var location: SourceLocation

    public init(name: String, label: String? = nil, input: Input, tuning: RelayTuning = RelayTuning(),
                location: SourceLocation = SourceLocation(file: "<memory>", line: 1)) {
        self.name = name
        self.label = label ?? name
        self.input = input
        self.tuning = tuning
        self.location = location
    }

    public var id: String { name }

    /// The URL or the device, as a line naming the upstream quotes it.
    public var address: String {
        switch input {
        case let .stream(url): url
        case let .capture(device): device
        }
    }
}

/// The bounds of a relay: how soon a fault is noticed and the fallback airs, and how soon the upstream comes back.
/// Every field may be set on its `[[source]]`; the defaults follow Liquidsoap's `blank` detection in spirit (a
/// level threshold of −40 dBFS held for a while), shortened for a station where dead air is the worst failure.
public struct RelayTuning: Sendable, Hashable, Codable {
    /// How long before the slot the connection opens, so that the first relayed sample is heard on its second.
    public var leadSeconds = 10.0
    /// How much audio is kept ahead of the loudspeaker: the margin a late network packet is absorbed by, and how far
    /// behind the upstream the relay is heard.
    public var bufferSeconds = 3.0
    /// No data for this long is a stalled connection: it is dropped and opened again.
    public var stallSeconds = 4.0
    /// Opening the connection (DNS, TCP, TLS, HTTP, the stream's first packets) gives up after this long.
    public var connectTimeoutSeconds = 8.0
    /// Below this level (dBFS, 100 ms RMS windows) the upstream is silent.
    public var silenceThresholdDB = -40.0
    /// Silent this long, the upstream is taken as lost: the fallback airs.
    public var silenceSeconds = 10.0
    /// After a fallback, the upstream is aired again once it has had sound this long without a break.
    public var returnSeconds = 3.0
    /// The first wait before connecting again; each failure doubles it up to ``reconnectMaxSeconds``.
    public var reconnectSeconds = 2.0
    public var reconnectMaxSeconds = 15.0

    public init() {}
}

/// What a relay slot airs: the upstream, and what airs when it cannot be heard.
public struct RelaySpec: Sendable, Hashable, Codable {
    /// The `[[source]]` named.
    public var source: String
    public var fallback: RelayFallback

    public init(source: String, fallback: RelayFallback = .none) {
        self.source = source
        self.fallback = fallback
    }
}

/// What airs while the upstream cannot be heard, in turn and again from the first for as long as it lasts.
public enum RelayFallback: Sendable, Hashable, Codable {
    /// Nothing planned: silence until the upstream returns. `loa schedule validate` warns of it.
    case none
    /// These items (paths under audio/ or segment ids), in order, looped: one jingle is a jingle looped.
    case play([String])
    /// Segments drawn from these pillars, least-aired first, looped.
    case pick(pillars: [Pillar])
}

/// Where the relay is, for `loa status` and the log.
public enum RelayState: String, Sendable, Hashable, Codable {
    /// Opening the connection or the device.
    case connecting
    /// Connected, filling the buffer.
    case buffering
    /// The upstream is on air.
    case relaying
    /// The fallback is on air; the upstream is tried again.
    case fallback

    public var label: String {
        switch self {
        case .connecting: "đang kết nối"
        case .buffering: "đang nạp đệm"
        case .relaying: "đang tiếp sóng"
        case .fallback: "đang phát dự phòng"
        }
    }
}
