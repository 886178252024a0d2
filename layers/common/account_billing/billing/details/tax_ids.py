"""Tax IDs in the format of each of Stripe's `tax_id` types (pure).

`TAX_ID_TYPES` are the types of Stripe's API version this code pins (a test compares them with
stripe-python's `CustomerTaxIdCreateParams`). A value is checked here for its shape only: the
format Stripe documents for the common types, and for every other type a value of letters,
digits and the separators tax IDs use. Stripe checks it again (checksums, country prefixes) and
may still refuse it (`tax_id_invalid`).
"""

from __future__ import annotations

import re

TAX_ID_TYPES = frozenset(
    {
        "ad_nrt",
        "ae_trn",
        "al_tin",
        "am_tin",
        "ao_tin",
        "ar_cuit",
        "au_abn",
        "au_acn",
        "au_arn",
        "au_wpn",
        "aw_tin",
        "az_tin",
        "ba_tin",
        "bb_tin",
        "bd_bin",
        "bf_ifu",
        "bg_uic",
        "bh_vat",
        "bj_ifu",
        "bo_tin",
        "br_cnpj",
        "br_cpf",
        "bs_tin",
        "bw_vat",
        "by_tin",
        "ca_bn",
        "ca_gst_hst",
        "ca_pst_bc",
        "ca_pst_mb",
        "ca_pst_sk",
        "ca_qst",
        "cd_nif",
        "ch_uid",
        "ch_vat",
        "ci_vat",
        "cl_tin",
        "cm_niu",
        "cn_tin",
        "co_nit",
        "cr_tin",
        "cv_nif",
        "cz_dic",
        "de_stn",
        "do_rcn",
        "ec_ruc",
        "eg_tin",
        "es_cif",
        "et_tin",
        "eu_oss_vat",
        "eu_vat",
        "fo_vat",
        "fr_siren",
        "fr_siret",
        "fr_spi",
        "gb_vat",
        "ge_vat",
        "gh_tin",
        "gi_tin",
        "gn_nif",
        "hk_br",
        "hr_oib",
        "hu_tin",
        "ic_nif",
        "id_npwp",
        "il_vat",
        "in_gst",
        "is_kt",
        "is_vat",
        "it_cf",
        "jp_cn",
        "jp_rn",
        "jp_trn",
        "ke_pin",
        "kg_tin",
        "kh_tin",
        "kr_brn",
        "kz_bin",
        "la_tin",
        "li_uid",
        "li_vat",
        "lk_vat",
        "ma_vat",
        "md_cf",
        "md_vat",
        "me_pib",
        "mk_vat",
        "mr_nif",
        "mu_vat",
        "mx_rfc",
        "my_frp",
        "my_itn",
        "my_sst",
        "mz_nuit",
        "ng_tin",
        "no_vat",
        "no_voec",
        "np_pan",
        "nz_bn",
        "nz_gst",
        "om_vat",
        "pe_ruc",
        "ph_tin",
        "pl_nip",
        "pt_nif",
        "py_ruc",
        "ro_tin",
        "rs_pib",
        "ru_inn",
        "ru_kpp",
        "sa_vat",
        "sg_gst",
        "sg_uen",
        "si_tin",
        "sm_coe",
        "sn_ninea",
        "sr_fin",
        "sv_nit",
        "th_vat",
        "tj_tin",
        "tr_tin",
        "tt_bir",
        "tt_vat",
        "tw_vat",
        "tz_vat",
        "ua_vat",
        "ug_tin",
        "us_ein",
        "uy_ruc",
        "uz_tin",
        "uz_vat",
        "ve_rif",
        "vn_tin",
        "za_vat",
        "zm_tin",
        "zw_tin",
    }
)

# The formats Stripe's tax ID documentation gives (its example values match them).
FORMATS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "eu_vat": r"^[A-Z]{2}[0-9A-Z+*]{2,12}$",  # DE123456789
        "eu_oss_vat": r"^EU[0-9]{9}$",  # EU123456789
        "gb_vat": r"^(GB|XI)([0-9]{9}|[0-9]{12}|GD[0-9]{3}|HA[0-9]{3})$",  # GB123456789
        "ch_vat": r"^CHE-?[0-9]{3}\.?[0-9]{3}\.?[0-9]{3} ?(MWST|TVA|IVA)$",  # CHE-123.456.789 MWST
        "ch_uid": r"^CHE-?[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}$",  # CHE-123.456.789
        "no_vat": r"^[0-9]{9}MVA$",  # 123456789MVA
        "us_ein": r"^[0-9]{2}-?[0-9]{7}$",  # 12-3456789
        "ca_bn": r"^[0-9]{9}$",  # 123456789
        "ca_gst_hst": r"^[0-9]{9}RT[0-9]{4}$",  # 123456789RT0002
        "ca_qst": r"^[0-9]{10}TQ[0-9]{4}$",  # 1234567890TQ1234
        "au_abn": r"^[0-9]{11}$",  # 12345678912
        "au_arn": r"^[0-9]{12}$",  # 123456789123
        "nz_gst": r"^[0-9]{8,9}$",  # 123456789
        "in_gst": r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z]$",  # 12ABCDE3456FGZH
        "jp_cn": r"^[0-9]{13}$",  # 1234567891234
        "jp_rn": r"^[0-9]{5}$",  # 12345
        "jp_trn": r"^T[0-9]{13}$",  # T1234567891234
        "sg_uen": r"^[0-9]{8,9}[A-Z]$|^[TSR][0-9]{2}[A-Z]{2}[0-9]{4}[A-Z]$",  # 123456789F
        "sg_gst": r"^M[0-9]{8}[0-9X]$",  # M12345678X
        "za_vat": r"^4[0-9]{9}$",  # 4123456789
        "br_cnpj": r"^[0-9]{2}\.[0-9]{3}\.[0-9]{3}/[0-9]{4}-[0-9]{2}$",  # 01.234.456/5432-10
        "br_cpf": r"^[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}$",  # 123.456.789-87
        "mx_rfc": r"^[A-Z&Ñ]{3,4}[0-9]{6}[A-Z0-9]{3}$",  # ABC010203AB9
        "kr_brn": r"^[0-9]{3}-[0-9]{2}-[0-9]{5}$",  # 123-45-67890
        "es_cif": r"^[A-Z][0-9]{8}$",  # A12345678
        "hk_br": r"^[0-9]{8}$",  # 12345678
        "ae_trn": r"^[0-9]{15}$",  # 123456789012345
        "sa_vat": r"^[0-9]{15}$",  # 123456789012345
        "il_vat": r"^[0-9]{9}$",  # 000012345
        "tw_vat": r"^[0-9]{8}$",  # 12345678
    }.items()
}
_ANY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z .\-/]{0,38}[0-9A-Za-z]$")


def valid_tax_id(kind: str, value: str) -> bool:
    """Whether `value` has the shape of a tax ID of Stripe's type `kind`."""
    if kind not in TAX_ID_TYPES:
        return False
    pattern = FORMATS.get(kind)
    if pattern is None:
        return bool(_ANY.fullmatch(value)) and any(c.isdigit() for c in value)
    return bool(pattern.fullmatch(value))
