"""JetParameters: defaults of model.md §7, validation messages, invalid-cell states."""
import pytest
from pydantic import ValidationError

from sweep.model.params import GRID_AXES, JetParameters, check_cell, format_validation_error


def test_defaults_are_model_md_section7():
    """Exact equality: these are the literal numbers of model.md §7 (no arithmetic involved)."""
    p = JetParameters()
    expected = dict(sigma0=30.0, mdot=0.01, eps_jet=0.1, eta_acc=1e4, theta_obs=3.0, mass_msun=1e9,
                    gamma0=1.1, f_rec=0.25, gamma_min_e=1.0, gamma_min_p=1.0, kappa=10.0, eta_rad=0.1,
                    xi_blr=0.1, xi_dt=0.1, z_acc_rs=1e3, sigma_acc=0.1, z0_rs=10.0, r0_rs=5.0,
                    theta_app_deg=10.75, r_in_rs=3.0, r_out_rs=1e3, r_blr_1e45_cm=1e17,
                    r_dt_1e45_cm=2.5e18, t_dt_k=370.0, beta_rec=0.1, f_split_pairs=0.5,
                    sigma_p_max=1e3, p_high_sigma=1.2, acceleration_law="sqrt",
                    jet_power_norm="accretion", linj_domain="4pi", blr_spectrum="blackbody",
                    mean_gamma="equal_energy", gamma_max=None)
    for k, v in expected.items():
        assert getattr(p, k) == v, k
    for ax in GRID_AXES:
        assert ax in JetParameters.model_fields
    # every field documents its unit and a confidence tag
    for name, f in JetParameters.model_fields.items():
        assert "[" in f.description and any(t in f.description for t in ("[E", "[P]", "[R-")), name


def test_gamma_max_is_one_plus_sigma0():
    """Γmax = Γ0(1+σ0)/(1+σ_acc) = 1+σ0 for Γ0 = 1.1, σ_acc = 0.1 (exact algebra; 1e-12 = rounding)."""
    for s0 in (10.0, 30.0, 60.0):
        p = JetParameters(sigma0=s0)
        assert p.gamma_max_eff == pytest.approx(1.0 + s0, rel=1e-12)
        assert p.sigma0_min == pytest.approx((1.0 + s0) / 1.1 - 1.0, rel=1e-12)  # Eq. 7
    p = JetParameters()
    assert p.mu == pytest.approx(34.1, rel=1e-12)
    assert p.sigma0_min == pytest.approx(27.1818, rel=1e-4)  # §8.2: 27.18 (4 significant figures)


@pytest.mark.parametrize("field,value", [("sigma0", -1.0), ("mdot", 0.0), ("theta_obs", 120.0),
                                         ("f_rec", 1.5), ("eta_acc", 0.5), ("acceleration_law", "cubic")])
def test_out_of_range_message_names_field_value_range(field, value):
    with pytest.raises(ValidationError) as ei:
        JetParameters(**{field: value})
    msg = format_validation_error(ei.value)
    assert msg.startswith(f"{field}: value")
    assert str(value) in msg
    assert "allowed" in msg


def test_cross_field_and_extra_and_frozen():
    with pytest.raises(ValidationError) as ei:
        JetParameters(r_out_rs=2.0)
    assert "r_out_rs" in format_validation_error(ei.value)
    with pytest.raises(ValidationError) as ei:
        JetParameters(z_acc_rs=5.0)
    assert "z_acc_rs" in format_validation_error(ei.value)
    with pytest.raises(ValidationError) as ei:
        JetParameters(sigma00=3)
    assert "sigma00: unknown parameter" in format_validation_error(ei.value)
    p = JetParameters()
    with pytest.raises(ValidationError):
        p.sigma0 = 3.0


def test_check_cell_invalid_states():
    p = JetParameters()
    rs = 2.0 * 6.67430e-8 * p.mass_g / 2.99792458e10**2
    assert check_cell(p, 30 * rs).ok
    ok, reason = check_cell(p, 5 * rs)
    assert not ok and "z0" in reason
    ok, reason = check_cell(p, [20 * rs, -1.0])
    assert not ok and "≤ 0" in reason
    # explicit Γmax = 41 with Γ0 = 1.1 needs σ0 ≥ 41/1.1 − 1 = 36.27 (Eq. 7)
    q = JetParameters(gamma_max=41.0, sigma0=30.0)
    ok, reason = check_cell(q, 30 * rs)
    assert not ok and "sigma0_min" in reason and "36.27" in reason
    assert check_cell(JetParameters(gamma_max=31.0, sigma0=30.0), 30 * rs).ok
    assert not check_cell(JetParameters(gamma_max=1.05), 30 * rs).ok
