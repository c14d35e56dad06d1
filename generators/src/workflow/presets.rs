//! The preset workflows.

use super::{StateDefinition as S, TransitionRule as T, WorkflowPreset};

pub(crate) fn preset(preset: WorkflowPreset) -> (Vec<S>, Vec<T>) {
    match preset {
        WorkflowPreset::OrderFulfillment => (
            vec![
                S::new("placed").initial(),
                S::new("paid"),
                S::new("picked"),
                S::new("shipped"),
                S::new("delivered").terminal(),
                S::new("cancelled").terminal(),
                S::new("returned").terminal(),
            ],
            vec![
                T::new("placed", "paid", 0.9, 0.5),
                T::new("placed", "cancelled", 0.1, 2.0),
                T::new("paid", "picked", 0.97, 4.0),
                T::new("paid", "cancelled", 0.03, 1.0),
                T::new("picked", "shipped", 1.0, 6.0),
                T::new("shipped", "delivered", 0.95, 48.0),
                T::new("shipped", "returned", 0.05, 72.0),
            ],
        ),
        WorkflowPreset::SupportTicket => (
            vec![
                S::new("opened").initial(),
                S::new("triaged"),
                S::new("in_progress"),
                S::new("waiting_on_customer"),
                S::new("resolved"),
                S::new("closed").terminal(),
            ],
            vec![
                T::new("opened", "triaged", 1.0, 2.0),
                T::new("triaged", "in_progress", 0.8, 4.0),
                T::new("triaged", "resolved", 0.2, 1.0),
                T::new("in_progress", "waiting_on_customer", 0.3, 8.0),
                T::new("in_progress", "resolved", 0.7, 12.0),
                T::new("waiting_on_customer", "in_progress", 1.0, 24.0),
                T::new("resolved", "closed", 0.85, 48.0),
                T::new("resolved", "in_progress", 0.15, 24.0),
            ],
        ),
        WorkflowPreset::EmployeeOnboarding => (
            vec![
                S::new("offer_accepted").initial(),
                S::new("paperwork"),
                S::new("equipment"),
                S::new("orientation"),
                S::new("active").terminal(),
                S::new("withdrawn").terminal(),
            ],
            vec![
                T::new("offer_accepted", "paperwork", 0.95, 24.0),
                T::new("offer_accepted", "withdrawn", 0.05, 72.0),
                T::new("paperwork", "equipment", 1.0, 48.0),
                T::new("equipment", "orientation", 1.0, 72.0),
                T::new("orientation", "active", 1.0, 8.0),
            ],
        ),
    }
}
