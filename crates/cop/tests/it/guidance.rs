//! Guidance pages: shipped texts per audience and language, English when a
//! language has none, and administrators' edits replacing a page for one
//! language.

use crate::support::{actor, each_backend};
use rampart_cop::CopError;
use rampart_cop::guidance::AUDIENCES;

#[tokio::test]
async fn pages_come_in_the_readers_language_and_admins_edit_them() {
    each_backend(|env| async move {
        for audience in AUDIENCES {
            let en = env.guidance.page(audience, "en").await.expect("en");
            let ar = env.guidance.page(audience, "ar").await.expect("ar");
            assert_eq!(ar.language, "ar");
            assert_ne!(en.title, ar.title, "{audience} is translated");
            assert!(ar.title.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{audience}: {}", ar.title);
            assert_eq!(env.guidance.page(audience, "es").await.expect("es").language, "en", "no Spanish text yet: English");
        }
        assert!(matches!(env.guidance.page("aliens", "en").await, Err(CopError::NotFound(_))));

        let admin = actor(&env.w.admin);
        assert!(matches!(env.guidance.save(&actor(&env.w.ke_analyst), "industry", "en", "T", "Body").await, Err(CopError::Forbidden)));
        assert!(matches!(env.guidance.save(&admin, "industry", "en", " ", "Body").await, Err(CopError::Invalid { field: "title", .. })));
        env.guidance
            .save(&admin, "industry", "es", "Guía para la industria", "## Seguridad desde el diseño\r\n\r\nTexto.")
            .await
            .expect("save");
        let es = env.guidance.page("industry", "es").await.expect("es");
        assert_eq!((es.language.as_str(), es.title.as_str()), ("es", "Guía para la industria"));
        assert_eq!(es.markdown, "## Seguridad desde el diseño\n\nTexto.");
        assert!(es.edited.is_some_and(|(by, _)| by == "admin@rampart.example"));
        env.guidance.save(&admin, "industry", "es", "Guía", "Otra versión.").await.expect("save again");
        assert_eq!(env.guidance.page("industry", "es").await.expect("es").markdown, "Otra versión.");
        assert_eq!(env.guidance.page("industry", "en").await.expect("en").edited, None, "other languages keep the shipped text");
        assert_eq!(env.audit("cop.guidance.edit").await.len(), 2);
    })
    .await;
}
