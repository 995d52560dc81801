// XGBoost's C API (Debian libxgboost-dev): the gradient-boosted trees baseline of `rounds evaluate`.
#include <xgboost/c_api.h>
