/* The CICFlowMeter profiles: one set of accumulators (the cic module, feature/cic.h, and
 * a few engine counters) under the column names of four CICFlowMeter outputs:
 *   cic        the 85 columns of the CIC-IDS2017 CSVs (the duplicated "Fwd Header
 *              Length" included), names without their leading spaces;
 *   cic2018    the 80 columns of the CSE-CIC-IDS2018 CSVs (no Flow ID, Src IP, Src
 *              Port, Dst IP, no duplicate);
 *   cic-v4     the 84 columns of CICFlowMeter 4 (upstream master);
 *   cic-fixed  the columns of Engelen et al.'s corrected fork that this engine can
 *              compute: 90 of its 94. Its three TCP retransmission counts need every
 *              (sequence, acknowledgement, length, window) of a flow kept in a set that
 *              grows with the flow, and its Total Connection Flow Time needs the start
 *              of the previous pieces of a connection cut by the active timeout, which
 *              the engine forgets when it writes a piece; both are left out.
 * All four use CICFlowMeter's flow timeout: 120 s from the first packet, no idle
 * timeout. What every column means, and where it differs from the published datasets:
 * docs/profiles.md. */
#include "feature/cic.h"
#include "feature/profiles.h"

/* One line per column, in the common order of the four outputs: the field, whether
 * each profile has the column (Y/N: cic, cic2018, cic-v4, cic-fixed), and its header in
 * each ("" where absent). */
#define CIC_COLUMNS(X) \
	X("cic_flow_id",            Y, N, Y, Y, "Flow ID",                     "",                  "Flow ID",                    "Flow ID") \
	X("src_ip",                 Y, N, Y, Y, "Source IP",                   "",                  "Src IP",                     "Src IP") \
	X("cic_src_port",           Y, N, Y, Y, "Source Port",                 "",                  "Src Port",                   "Src Port") \
	X("dst_ip",                 Y, N, Y, Y, "Destination IP",              "",                  "Dst IP",                     "Dst IP") \
	X("cic_dst_port",           Y, Y, Y, Y, "Destination Port",            "Dst Port",          "Dst Port",                   "Dst Port") \
	X("cic_protocol",           Y, Y, Y, Y, "Protocol",                    "Protocol",          "Protocol",                   "Protocol") \
	X("cic_timestamp",          Y, Y, Y, Y, "Timestamp",                   "Timestamp",         "Timestamp",                  "Timestamp") \
	X("cic_flow_duration",      Y, Y, Y, Y, "Flow Duration",               "Flow Duration",     "Flow Duration",              "Flow Duration") \
	X("forward_packets",        Y, Y, Y, Y, "Total Fwd Packets",           "Tot Fwd Pkts",      "Total Fwd Packet",           "Total Fwd Packet") \
	X("backward_packets",       Y, Y, Y, Y, "Total Backward Packets",      "Tot Bwd Pkts",      "Total Bwd packets",          "Total Bwd packets") \
	X("forward_payload_bytes",  Y, Y, Y, Y, "Total Length of Fwd Packets", "TotLen Fwd Pkts",   "Total Length of Fwd Packet", "Total Length of Fwd Packet") \
	X("backward_payload_bytes", Y, Y, Y, Y, "Total Length of Bwd Packets", "TotLen Bwd Pkts",   "Total Length of Bwd Packet", "Total Length of Bwd Packet") \
	X("cic_fwd_pkt_len_max",    Y, Y, Y, Y, "Fwd Packet Length Max",       "Fwd Pkt Len Max",   "Fwd Packet Length Max",      "Fwd Packet Length Max") \
	X("cic_fwd_pkt_len_min",    Y, Y, Y, Y, "Fwd Packet Length Min",       "Fwd Pkt Len Min",   "Fwd Packet Length Min",      "Fwd Packet Length Min") \
	X("cic_fwd_pkt_len_mean",   Y, Y, Y, Y, "Fwd Packet Length Mean",      "Fwd Pkt Len Mean",  "Fwd Packet Length Mean",     "Fwd Packet Length Mean") \
	X("cic_fwd_pkt_len_std",    Y, Y, Y, Y, "Fwd Packet Length Std",       "Fwd Pkt Len Std",   "Fwd Packet Length Std",      "Fwd Packet Length Std") \
	X("cic_bwd_pkt_len_max",    Y, Y, Y, Y, "Bwd Packet Length Max",       "Bwd Pkt Len Max",   "Bwd Packet Length Max",      "Bwd Packet Length Max") \
	X("cic_bwd_pkt_len_min",    Y, Y, Y, Y, "Bwd Packet Length Min",       "Bwd Pkt Len Min",   "Bwd Packet Length Min",      "Bwd Packet Length Min") \
	X("cic_bwd_pkt_len_mean",   Y, Y, Y, Y, "Bwd Packet Length Mean",      "Bwd Pkt Len Mean",  "Bwd Packet Length Mean",     "Bwd Packet Length Mean") \
	X("cic_bwd_pkt_len_std",    Y, Y, Y, Y, "Bwd Packet Length Std",       "Bwd Pkt Len Std",   "Bwd Packet Length Std",      "Bwd Packet Length Std") \
	X("cic_flow_bytes_per_s",   Y, Y, Y, Y, "Flow Bytes/s",                "Flow Byts/s",       "Flow Bytes/s",               "Flow Bytes/s") \
	X("cic_flow_pkts_per_s",    Y, Y, Y, Y, "Flow Packets/s",              "Flow Pkts/s",       "Flow Packets/s",             "Flow Packets/s") \
	X("cic_flow_iat_mean",      Y, Y, Y, Y, "Flow IAT Mean",               "Flow IAT Mean",     "Flow IAT Mean",              "Flow IAT Mean") \
	X("cic_flow_iat_std",       Y, Y, Y, Y, "Flow IAT Std",                "Flow IAT Std",      "Flow IAT Std",               "Flow IAT Std") \
	X("cic_flow_iat_max",       Y, Y, Y, Y, "Flow IAT Max",                "Flow IAT Max",      "Flow IAT Max",               "Flow IAT Max") \
	X("cic_flow_iat_min",       Y, Y, Y, Y, "Flow IAT Min",                "Flow IAT Min",      "Flow IAT Min",               "Flow IAT Min") \
	X("cic_fwd_iat_total",      Y, Y, Y, Y, "Fwd IAT Total",               "Fwd IAT Tot",       "Fwd IAT Total",              "Fwd IAT Total") \
	X("cic_fwd_iat_mean",       Y, Y, Y, Y, "Fwd IAT Mean",                "Fwd IAT Mean",      "Fwd IAT Mean",               "Fwd IAT Mean") \
	X("cic_fwd_iat_std",        Y, Y, Y, Y, "Fwd IAT Std",                 "Fwd IAT Std",       "Fwd IAT Std",                "Fwd IAT Std") \
	X("cic_fwd_iat_max",        Y, Y, Y, Y, "Fwd IAT Max",                 "Fwd IAT Max",       "Fwd IAT Max",                "Fwd IAT Max") \
	X("cic_fwd_iat_min",        Y, Y, Y, Y, "Fwd IAT Min",                 "Fwd IAT Min",       "Fwd IAT Min",                "Fwd IAT Min") \
	X("cic_bwd_iat_total",      Y, Y, Y, Y, "Bwd IAT Total",               "Bwd IAT Tot",       "Bwd IAT Total",              "Bwd IAT Total") \
	X("cic_bwd_iat_mean",       Y, Y, Y, Y, "Bwd IAT Mean",                "Bwd IAT Mean",      "Bwd IAT Mean",               "Bwd IAT Mean") \
	X("cic_bwd_iat_std",        Y, Y, Y, Y, "Bwd IAT Std",                 "Bwd IAT Std",       "Bwd IAT Std",                "Bwd IAT Std") \
	X("cic_bwd_iat_max",        Y, Y, Y, Y, "Bwd IAT Max",                 "Bwd IAT Max",       "Bwd IAT Max",                "Bwd IAT Max") \
	X("cic_bwd_iat_min",        Y, Y, Y, Y, "Bwd IAT Min",                 "Bwd IAT Min",       "Bwd IAT Min",                "Bwd IAT Min") \
	X("cic_fwd_psh_flags",      Y, Y, Y, Y, "Fwd PSH Flags",               "Fwd PSH Flags",     "Fwd PSH Flags",              "Fwd PSH Flags") \
	X("cic_bwd_psh_flags",      Y, Y, Y, Y, "Bwd PSH Flags",               "Bwd PSH Flags",     "Bwd PSH Flags",              "Bwd PSH Flags") \
	X("cic_fwd_urg_flags",      Y, Y, Y, Y, "Fwd URG Flags",               "Fwd URG Flags",     "Fwd URG Flags",              "Fwd URG Flags") \
	X("cic_bwd_urg_flags",      Y, Y, Y, Y, "Bwd URG Flags",               "Bwd URG Flags",     "Bwd URG Flags",              "Bwd URG Flags") \
	X("cic_fwd_rst_flags",      N, N, N, Y, "",                            "",                  "",                           "Fwd RST Flags") \
	X("cic_bwd_rst_flags",      N, N, N, Y, "",                            "",                  "",                           "Bwd RST Flags") \
	X("cic_fwd_hdr_len",        Y, Y, Y, Y, "Fwd Header Length",           "Fwd Header Len",    "Fwd Header Length",          "Fwd Header Length") \
	X("cic_bwd_hdr_len",        Y, Y, Y, Y, "Bwd Header Length",           "Bwd Header Len",    "Bwd Header Length",          "Bwd Header Length") \
	X("cic_fwd_pkts_per_s",     Y, Y, Y, Y, "Fwd Packets/s",               "Fwd Pkts/s",        "Fwd Packets/s",              "Fwd Packets/s") \
	X("cic_bwd_pkts_per_s",     Y, Y, Y, Y, "Bwd Packets/s",               "Bwd Pkts/s",        "Bwd Packets/s",              "Bwd Packets/s") \
	X("cic_pkt_len_min",        Y, Y, Y, Y, "Min Packet Length",           "Pkt Len Min",       "Packet Length Min",          "Packet Length Min") \
	X("cic_pkt_len_max",        Y, Y, Y, Y, "Max Packet Length",           "Pkt Len Max",       "Packet Length Max",          "Packet Length Max") \
	X("cic_pkt_len_mean",       Y, Y, Y, Y, "Packet Length Mean",          "Pkt Len Mean",      "Packet Length Mean",         "Packet Length Mean") \
	X("cic_pkt_len_std",        Y, Y, Y, Y, "Packet Length Std",           "Pkt Len Std",       "Packet Length Std",          "Packet Length Std") \
	X("cic_pkt_len_var",        Y, Y, Y, Y, "Packet Length Variance",      "Pkt Len Var",       "Packet Length Variance",     "Packet Length Variance") \
	X("fin_count",              Y, Y, Y, Y, "FIN Flag Count",              "FIN Flag Cnt",      "FIN Flag Count",             "FIN Flag Count") \
	X("syn_count",              Y, Y, Y, Y, "SYN Flag Count",              "SYN Flag Cnt",      "SYN Flag Count",             "SYN Flag Count") \
	X("rst_count",              Y, Y, Y, Y, "RST Flag Count",              "RST Flag Cnt",      "RST Flag Count",             "RST Flag Count") \
	X("cic_psh_count",          Y, Y, Y, Y, "PSH Flag Count",              "PSH Flag Cnt",      "PSH Flag Count",             "PSH Flag Count") \
	X("ack_count",              Y, Y, Y, Y, "ACK Flag Count",              "ACK Flag Cnt",      "ACK Flag Count",             "ACK Flag Count") \
	X("cic_urg_count",          Y, Y, Y, Y, "URG Flag Count",              "URG Flag Cnt",      "URG Flag Count",             "URG Flag Count") \
	X("cic_cwr_count",          Y, Y, Y, Y, "CWE Flag Count",              "CWE Flag Count",    "CWR Flag Count",             "CWR Flag Count") \
	X("cic_ece_count",          Y, Y, Y, Y, "ECE Flag Count",              "ECE Flag Cnt",      "ECE Flag Count",             "ECE Flag Count") \
	X("cic_down_up_ratio",      Y, Y, Y, Y, "Down/Up Ratio",               "Down/Up Ratio",     "Down/Up Ratio",              "Down/Up Ratio") \
	X("cic_avg_pkt_size",       Y, Y, Y, Y, "Average Packet Size",         "Pkt Size Avg",      "Average Packet Size",        "Average Packet Size") \
	X("cic_fwd_seg_size_avg",   Y, Y, Y, Y, "Avg Fwd Segment Size",        "Fwd Seg Size Avg",  "Fwd Segment Size Avg",       "Fwd Segment Size Avg") \
	X("cic_bwd_seg_size_avg",   Y, Y, Y, Y, "Avg Bwd Segment Size",        "Bwd Seg Size Avg",  "Bwd Segment Size Avg",       "Bwd Segment Size Avg") \
	X("cic_fwd_hdr_len",        Y, N, N, N, "Fwd Header Length",           "",                  "",                           "") \
	X("cic_fwd_bulk_bytes_avg", Y, Y, Y, Y, "Fwd Avg Bytes/Bulk",          "Fwd Byts/b Avg",    "Fwd Bytes/Bulk Avg",         "Fwd Bytes/Bulk Avg") \
	X("cic_fwd_bulk_pkts_avg",  Y, Y, Y, Y, "Fwd Avg Packets/Bulk",        "Fwd Pkts/b Avg",    "Fwd Packet/Bulk Avg",        "Fwd Packet/Bulk Avg") \
	X("cic_fwd_bulk_rate",      Y, Y, Y, Y, "Fwd Avg Bulk Rate",           "Fwd Blk Rate Avg",  "Fwd Bulk Rate Avg",          "Fwd Bulk Rate Avg") \
	X("cic_bwd_bulk_bytes_avg", Y, Y, Y, Y, "Bwd Avg Bytes/Bulk",          "Bwd Byts/b Avg",    "Bwd Bytes/Bulk Avg",         "Bwd Bytes/Bulk Avg") \
	X("cic_bwd_bulk_pkts_avg",  Y, Y, Y, Y, "Bwd Avg Packets/Bulk",        "Bwd Pkts/b Avg",    "Bwd Packet/Bulk Avg",        "Bwd Packet/Bulk Avg") \
	X("cic_bwd_bulk_rate",      Y, Y, Y, Y, "Bwd Avg Bulk Rate",           "Bwd Blk Rate Avg",  "Bwd Bulk Rate Avg",          "Bwd Bulk Rate Avg") \
	X("cic_subflow_fwd_pkts",   Y, Y, Y, Y, "Subflow Fwd Packets",         "Subflow Fwd Pkts",  "Subflow Fwd Packets",        "Subflow Fwd Packets") \
	X("cic_subflow_fwd_bytes",  Y, Y, Y, Y, "Subflow Fwd Bytes",           "Subflow Fwd Byts",  "Subflow Fwd Bytes",          "Subflow Fwd Bytes") \
	X("cic_subflow_bwd_pkts",   Y, Y, Y, Y, "Subflow Bwd Packets",         "Subflow Bwd Pkts",  "Subflow Bwd Packets",        "Subflow Bwd Packets") \
	X("cic_subflow_bwd_bytes",  Y, Y, Y, Y, "Subflow Bwd Bytes",           "Subflow Bwd Byts",  "Subflow Bwd Bytes",          "Subflow Bwd Bytes") \
	X("cic_init_win_fwd",       Y, Y, Y, Y, "Init_Win_bytes_forward",      "Init Fwd Win Byts", "FWD Init Win Bytes",         "FWD Init Win Bytes") \
	X("cic_init_win_bwd",       Y, Y, Y, Y, "Init_Win_bytes_backward",     "Init Bwd Win Byts", "Bwd Init Win Bytes",         "Bwd Init Win Bytes") \
	X("cic_fwd_act_data_pkts",  Y, Y, Y, Y, "act_data_pkt_fwd",            "Fwd Act Data Pkts", "Fwd Act Data Pkts",          "Fwd Act Data Pkts") \
	X("cic_bwd_act_data_pkts",  N, N, N, Y, "",                            "",                  "",                           "Bwd Act Data Pkts") \
	X("cic_fwd_hdr_len_min",    Y, Y, Y, Y, "min_seg_size_forward",        "Fwd Seg Size Min",  "Fwd Seg Size Min",           "Fwd Seg Size Min") \
	X("cic_bwd_hdr_len_min",    N, N, N, Y, "",                            "",                  "",                           "Bwd Seg Size Min") \
	X("cic_active_mean",        Y, Y, Y, Y, "Active Mean",                 "Active Mean",       "Active Mean",                "Active Mean") \
	X("cic_active_std",         Y, Y, Y, Y, "Active Std",                  "Active Std",        "Active Std",                 "Active Std") \
	X("cic_active_max",         Y, Y, Y, Y, "Active Max",                  "Active Max",        "Active Max",                 "Active Max") \
	X("cic_active_min",         Y, Y, Y, Y, "Active Min",                  "Active Min",        "Active Min",                 "Active Min") \
	X("cic_idle_mean",          Y, Y, Y, Y, "Idle Mean",                   "Idle Mean",         "Idle Mean",                  "Idle Mean") \
	X("cic_idle_std",           Y, Y, Y, Y, "Idle Std",                    "Idle Std",          "Idle Std",                   "Idle Std") \
	X("cic_idle_max",           Y, Y, Y, Y, "Idle Max",                    "Idle Max",          "Idle Max",                   "Idle Max") \
	X("cic_idle_min",           Y, Y, Y, Y, "Idle Min",                    "Idle Min",          "Idle Min",                   "Idle Min") \
	X("cic_icmp_code",          N, N, N, Y, "",                            "",                  "",                           "ICMP Code") \
	X("cic_icmp_type",          N, N, N, Y, "",                            "",                  "",                           "ICMP Type") \
	X("cic_label",              Y, Y, Y, Y, "Label",                       "Label",             "Label",                      "Label")

/* A column of a profile whose flag is Y; nothing for N. */
#define KEEP_Y(...) __VA_ARGS__,
#define KEEP_N(...)
#define COL_2017(f, a, b, c, d, n1, n2, n3, n4) KEEP_##a({ f, n1 })
#define COL_2018(f, a, b, c, d, n1, n2, n3, n4) KEEP_##b({ f, n2 })
#define COL_V4(f, a, b, c, d, n1, n2, n3, n4) KEEP_##c({ f, n3 })
#define COL_FIXED(f, a, b, c, d, n1, n2, n3, n4) KEEP_##d({ f, n4 })

static const struct nfm_profile_column cols_2017[] = { CIC_COLUMNS(COL_2017) };
static const struct nfm_profile_column cols_2018[] = { CIC_COLUMNS(COL_2018) };
static const struct nfm_profile_column cols_v4[] = { CIC_COLUMNS(COL_V4) };
static const struct nfm_profile_column cols_fixed[] = { CIC_COLUMNS(COL_FIXED) };

_Static_assert(sizeof cols_2017 / sizeof cols_2017[0] == 85, "CIC-IDS2017 has 85 columns");
_Static_assert(sizeof cols_2018 / sizeof cols_2018[0] == 80, "CSE-CIC-IDS2018 has 80 columns");
_Static_assert(sizeof cols_v4 / sizeof cols_v4[0] == 84, "CICFlowMeter 4 writes 84 columns");
_Static_assert(sizeof cols_fixed / sizeof cols_fixed[0] == 90, "the fork's 94 columns but 4");

static const struct nfm_module *const cic_modules[] = { &nfm_mod_cic };

#define NS_PER_S 1000000000ull
#define CIC_PROFILE(var, pname, what, cols)                                                    \
	const struct nfm_profile var = {                                                       \
		.name = pname,                                                                 \
		.desc = what,                                                                  \
		NFM_PROFILE_MODULES(cic_modules),                                              \
		NFM_PROFILE_COLUMNS(cols),                                                     \
		.idle_timeout_ns = 0,                                                          \
		.active_timeout_ns = 120 * NS_PER_S,                                           \
		.timeouts_doc = "CICFlowMeter's only timeout: 120 s from the flow's first packet, no idle timeout", \
	}

CIC_PROFILE(nfm_profile_cic, "cic",
	    "CICFlowMeter features, CIC-IDS2017 column names (85, bugs fixed)", cols_2017);
CIC_PROFILE(nfm_profile_cic2018, "cic2018",
	    "CICFlowMeter features, CSE-CIC-IDS2018 column names (80)", cols_2018);
CIC_PROFILE(nfm_profile_cic_v4, "cic-v4",
	    "CICFlowMeter features, CICFlowMeter 4 column names (84)", cols_v4);
CIC_PROFILE(nfm_profile_cic_fixed, "cic-fixed",
	    "CICFlowMeter features, column names of Engelen et al.'s corrected fork (90 of 94)",
	    cols_fixed);
