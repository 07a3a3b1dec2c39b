/* The CICFlowMeter profiles (profile_cic.c): cic, cic2018, cic-v4 and cic-fixed. */
#ifndef NFM_FEATURE_PROFILE_CIC_H
#define NFM_FEATURE_PROFILE_CIC_H

#include "feature/profile.h"

extern const struct nfm_profile nfm_profile_cic;
extern const struct nfm_profile nfm_profile_cic2018;
extern const struct nfm_profile nfm_profile_cic_v4;
extern const struct nfm_profile nfm_profile_cic_fixed;

#endif
